#!/usr/bin/python3
"""create_resource.py: the tutorial's first workflow with the Azure SDK for Python (as the seed did).
Signs in with the service principal in config.py, registers the providers, creates (or reuses) a
resource group holding a storage account with a blob container and a Batch account linked to it,
and writes config_resources.py for launch_batch.py and check_task.py."""
import argparse
import datetime
import os
import re
import sys
import tempfile
import time

from azure.identity import ClientSecretCredential
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.batch import BatchManagementClient
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

import local_cloud


def parse_args():
    ap = argparse.ArgumentParser(
        description="Creating a resource group containing a batch account and a storage account that has a blob container.",
        epilog='Returns a file named "config_resources.py" containing information about the batch account and '
               "the blob container that will have been created.")
    ap.add_argument("--resource_gp_name", metavar="RESOURCE_GPE_NAME", default="group-centrale-supelec",
                    help="Name of resource group (default: %(default)s)")
    ap.add_argument("--batch_account_name", metavar="BATCH_ACCOUNT_NAME", default="ab03centralesupelec",
                    help="Name of batch account (default: %(default)s)")
    ap.add_argument("--storage_account_name", metavar="STORAGE_ACCOUNT_NAME", default="as03centralesupelec",
                    help="Name of storage account (default: %(default)s)")
    ap.add_argument("--blob_container_name", metavar="BLOB_CONTAINER_NAME", default="results",
                    help="Name of blob container (default: %(default)s)")
    ap.add_argument("--region_name", metavar="REGION_NAME", default="centralus",
                    help="Location where resources will be created (default: %(default)s)")
    ap.add_argument("--sas_days", type=int, default=7, help="Validity of the container's SAS token, in days")
    a = ap.parse_args()
    for what, name, rx in (("storage account", a.storage_account_name, r"[a-z0-9]{3,24}"),
                           ("Batch account", a.batch_account_name, r"[a-z0-9]{3,24}"),
                           ("resource group", a.resource_gp_name, r"[-\w.()]{0,89}[-\w()]"),
                           ("container", a.blob_container_name, r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]")):
        if not re.fullmatch(rx, name):
            ap.error("invalid %s name '%s'" % (what, name))
    return a


def step(verb, what):
    print("  %-8s %s" % (verb, what), flush=True)


def write_resources(path, values):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".config_resources.")
    with os.fdopen(fd, "w") as f:
        f.write("# Written by create_resource.py: holds a Batch key and a SAS token (mode 0600).\n")
        for k, v in values.items():
            f.write("%s = %r\n" % (k, v))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def main():
    args = parse_args()
    sys.path.insert(0, os.getcwd())   # config.py and config_resources.py live where the user runs it
    import config
    env = local_cloud.settings()
    sp = config.sp
    cred = ClientSecretCredential(sp["tenant"], sp["client_id"], sp["password"], **env["identity"])
    sub, rg, region = config.subs, args.resource_gp_name, args.region_name
    rc = ResourceManagementClient(cred, sub, **env["mgmt"])
    sc = StorageManagementClient(cred, sub, **env["mgmt"])
    bc = BatchManagementClient(cred, sub, **env["mgmt"])
    print("Creating the tutorial's resources in subscription %s (%s)" % (sub, region))

    for ns in ("Microsoft.Storage", "Microsoft.Batch"):
        p = rc.providers.register(ns)
        delay = 0.25   # re-checked after 0.25 s, then twice as long each time up to 2 s (as azlua does)
        while p.registration_state != "Registered":
            time.sleep(delay)
            delay = min(delay * 2, 2)
            p = rc.providers.get(ns)
        step("ready", "provider %s (%s)" % (ns, p.registration_state))

    rg_exists = rc.resource_groups.check_existence(rg)

    def get_or_none(op, *a):
        try:
            return op(*a)
        except ResourceNotFoundError:
            return None

    sa = get_or_none(sc.storage_accounts.get_properties, rg, args.storage_account_name) if rg_exists else None
    if sa is None:
        r = sc.storage_accounts.check_name_availability(
            {"name": args.storage_account_name, "type": "Microsoft.Storage/storageAccounts"})
        if not r.name_available:
            sys.exit("create_resource.py: storage account name '%s': %s" % (args.storage_account_name, r.message))
    ba = get_or_none(bc.batch_account.get, rg, args.batch_account_name) if rg_exists else None
    if ba is None:
        r = bc.location.check_name_availability(region, {"name": args.batch_account_name,
                                                         "type": "Microsoft.Batch/batchAccounts"})
        if not r.name_available:
            sys.exit("create_resource.py: Batch account name '%s': %s" % (args.batch_account_name, r.message))

    if rg_exists:
        step("reused", "resource group '%s'" % rg)
    else:
        rc.resource_groups.create_or_update(rg, {"location": region})
        step("created", "resource group '%s' (%s)" % (rg, region))

    if sa is not None:
        step("reused", "storage account '%s'" % args.storage_account_name)
    else:
        sa = sc.storage_accounts.begin_create(rg, args.storage_account_name, {
            "location": region, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "minimum_tls_version": "TLS1_2", "allow_blob_public_access": False,
            "enable_https_traffic_only": True}).result()
        step("created", "storage account '%s'" % args.storage_account_name)

    if ba is not None:
        step("reused", "Batch account '%s'" % args.batch_account_name)
    else:
        ba = bc.batch_account.begin_create(rg, args.batch_account_name, {
            "location": region, "auto_storage": {"storage_account_id": sa.id}}).result()
        step("created", "Batch account '%s' (auto-storage: %s)" % (args.batch_account_name, args.storage_account_name))

    sc.blob_containers.create(rg, args.storage_account_name, args.blob_container_name, {"public_access": "None"})
    step("ready", "blob container '%s'" % args.blob_container_name)

    keys = sc.storage_accounts.list_keys(rg, args.storage_account_name).keys
    key = next(k.value for k in keys if str(k.permissions).lower().endswith("full"))
    blob_base = sa.primary_endpoints.blob
    container_url = blob_base.rstrip("/") + "/" + args.blob_container_name
    expiry = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=args.sas_days)
    sas = generate_container_sas(args.storage_account_name, args.blob_container_name, account_key=key,
                                 permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, list=True),
                                 expiry=expiry, protocol="https,http" if env["verify"] is not True else "https")
    bkeys = bc.batch_account.get_keys(rg, args.batch_account_name)
    endpoint = ba.account_endpoint
    batch_url = endpoint if "://" in endpoint else "https://" + endpoint

    write_resources("config_resources.py", {
        "resource_gpe_name": rg,
        "location": region,
        "subscription": sub,
        "storage_account": {"name": args.storage_account_name, "blob_endpoint": blob_base},
        "batch": {"name": args.batch_account_name, "key": bkeys.primary, "url": batch_url},
        "blob_container": {"name": args.blob_container_name, "url": container_url, "sas_token": sas,
                           "sas_expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")},
    })
    step("wrote", "config_resources.py (Batch account, container URL and a SAS valid until %s)"
         % expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
    print("Done. Next: python3 launch_batch.py")


if __name__ == "__main__":
    main()
