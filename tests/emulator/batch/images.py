"""The supported-images list the emulator answers (shaped like the service's, 2026)."""


def _img(agent, publisher, offer, sku, eol=None, caps=None, verification="verified", os_type="linux"):
    d = {"nodeAgentSKUId": agent,
         "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
         "verificationType": verification, "osType": os_type}
    if caps:
        d["capabilities"] = list(caps)
    if eol:
        d["batchSupportEndOfLife"] = eol
    return d


SUPPORTED_IMAGES = [
    _img("batch.node.ubuntu 22.04", "canonical", "0001-com-ubuntu-server-jammy", "22_04-lts",
         eol="2027-06-30T00:00:00Z"),
    _img("batch.node.ubuntu 22.04", "canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2",
         eol="2027-06-30T00:00:00Z", caps=["Generation2VMImage"]),
    _img("batch.node.ubuntu 24.04", "canonical", "ubuntu-24_04-lts", "server",
         caps=["Generation2VMImage"]),
    _img("batch.node.ubuntu 24.04", "canonical", "ubuntu-24_04-lts", "server-gen1"),
    _img("batch.node.ubuntu 24.04", "microsoft-dsvm", "ubuntu-hpc", "2404",
         caps=["DockerCompatible", "Generation2VMImage", "SupportsRDMAOnly"]),
    _img("batch.node.el 9", "almalinux", "almalinux-x64", "9-gen2", caps=["Generation2VMImage"],
         verification="unverified"),
    _img("batch.node.debian 12", "debian", "debian-12", "12", verification="unverified"),
    _img("batch.node.windows amd64", "microsoftwindowsserver", "windowsserver", "2022-datacenter",
         os_type="windows"),
    _img("batch.node.windows amd64", "microsoftwindowsserver", "windowsserver", "2025-datacenter",
         os_type="windows", caps=["Generation2VMImage"]),
]

# Images the service no longer lets new pools use (pool add -> 400 with this agent).
RETIRED_AGENTS = {"batch.node.ubuntu 18.04", "batch.node.ubuntu 20.04", "batch.node.ubuntu 16.04",
                  "batch.node.centos 7", "batch.node.debian 10"}
