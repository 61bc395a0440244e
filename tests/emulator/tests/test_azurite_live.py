"""The emulator's Azurite owner: accounts added through ARM are live in the running Azurite at once
(preloaded azurite_live_accounts.js), and when that preload cannot patch Azurite the owner falls back
to restarting it. Both paths must leave the new account usable with its key."""
import base64
import os
import shutil
import tempfile
import time
import unittest

from tests.emulator import azurite as az

BIN = az.find_azurite()


def new_key():
    return base64.b64encode(os.urandom(64)).decode()


@unittest.skipUnless(BIN, "notice: Azurite missing (tools/setup.sh --test installs it)")
class AzuriteAccounts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        a = az.Azurite(BIN, self.dir, log=lambda *_: None)
        a.start()
        self.addCleanup(a.stop)
        return a

    def create_container(self, a, name, key):
        st, _, body = a.request(name, key, "PUT", "/cont1", query=[("restype", "container")])
        return st, body

    def test_new_account_is_live_without_restart(self):
        a = self.start()
        self.assertTrue(a.live, "the preload patched Azurite")
        pid = a.proc.pid
        key = new_key()
        a.set_account("liveacct1", key, new_key())
        self.assertTrue(a.ready("liveacct1", key))
        self.assertEqual(self.create_container(a, "liveacct1", key)[0], 201)
        self.assertEqual(a.proc.pid, pid, "no restart")
        self.assertEqual(os.stat(a.accounts_file).st_mode & 0o777, 0o600)
        # a changed key is live too, and the old one stops working
        key2 = new_key()
        a.set_account("liveacct1", key2, new_key())
        self.assertEqual(a.request("liveacct1", key2, "GET", "/cont1", query=[("restype", "container")])[0], 200)
        self.assertEqual(a.request("liveacct1", key, "GET", "/cont1", query=[("restype", "container")])[0], 403)
        self.assertEqual(a.proc.pid, pid)

    def test_falls_back_to_restart_when_the_preload_cannot_patch(self):
        real_env = az.Azurite._env

        def broken_env(self, accounts):
            env = real_env(self, accounts)
            env["AZLUA_AZURITE_DIR"] = "/nonexistent"   # the preload finds no AccountDataStore
            return env
        az.Azurite._env = broken_env
        self.addCleanup(setattr, az.Azurite, "_env", real_env)
        a = self.start()
        self.assertFalse(a.live)
        pid = a.proc.pid
        key = new_key()
        a.set_account("restarted1", key, new_key())
        self.assertTrue(a.wait_ready("restarted1", timeout=60))
        self.assertNotEqual(a.proc.pid, pid, "restarted")
        self.assertEqual(self.create_container(a, "restarted1", key)[0], 201)


if __name__ == "__main__":
    unittest.main()
