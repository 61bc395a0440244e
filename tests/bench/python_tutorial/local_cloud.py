"""Where the tutorial's clients go: public Azure by default; the azlua emulator when AZURE_CLOUD=local
(the same switch azlua's scripts use), with its endpoints file in AZLUA_LOCAL_ENDPOINTS.

settings() -> dict with
  identity: extra kwargs for azure.identity credentials (authority, CA)
  mgmt:     extra kwargs for the azure.mgmt.* clients (base_url, CA, LRO polling interval)
  verify:   the CA file to trust (or True: the system's)
"""
import json
import os


def settings():
    if os.environ.get("AZURE_CLOUD") != "local":
        return {"identity": {}, "mgmt": {}, "verify": True}
    with open(os.environ["AZLUA_LOCAL_ENDPOINTS"]) as f:
        ep = json.load(f)
    if not ep.get("tls"):
        raise SystemExit("the emulator must run with --tls: azure-identity only signs in over https")
    ca = ep["ca_file"]
    return {
        "identity": {"authority": ep["authority"], "instance_discovery": False, "connection_verify": ca},
        # The benchmark's emulator answers LROs with "Retry-After: 0", which azure-core reads as "no
        # header" and then waits polling_interval (30 s by default). 0.1 s is what azlua does then
        # (it never polls faster than every 0.1 s), so both sides poll at the same pace.
        "mgmt": {"base_url": ep["arm"], "connection_verify": ca, "polling_interval": 0.1},
        "verify": ca,
    }
