// Preloaded into Azurite (NODE_OPTIONS=--require) by the emulator, so storage accounts created through
// ARM exist in the running Azurite at once. Azurite reads its accounts from the AZURITE_ACCOUNTS
// variable of its own process, and re-reads it only once a minute; without this the emulator has to
// restart Azurite for every new account or key (~1 s with blob requests refused meanwhile).
// Here every account lookup first checks the accounts file the emulator writes (one stat call) and,
// when it changed, reloads it into the variable and has Azurite re-read it. When Azurite's internals
// are not what this expects, nothing is patched and no marker is written: the emulator then restarts
// Azurite as before.
"use strict";
const fs = require("fs");
const path = require("path");

const file = process.env.AZLUA_AZURITE_ACCOUNTS_FILE;
const dir = process.env.AZLUA_AZURITE_DIR;
const marker = process.env.AZLUA_AZURITE_LIVE_MARKER;
if (file && dir && marker) {
  try {
    const mod = require(path.join(dir, "dist", "src", "common", "AccountDataStore.js"));
    const Store = mod.default || mod;
    const original = Store.prototype.getAccount;
    if (typeof original === "function" && typeof Store.prototype.refresh === "function") {
      let seen = "";
      const sync = () => {
        let st;
        try { st = fs.statSync(file); } catch (e) { return false; }
        const stamp = st.mtimeMs + ":" + st.size + ":" + st.ino;
        if (stamp === seen) return false;
        seen = stamp;
        process.env.AZURITE_ACCOUNTS = fs.readFileSync(file, "utf8").trim();
        return true;
      };
      Store.prototype.getAccount = function (name) {
        if (sync()) this.refresh();
        return original.call(this, name);
      };
      fs.writeFileSync(marker, "live\n");
    }
  } catch (e) {
    // leave Azurite untouched: the emulator falls back to restarting it
  }
}
