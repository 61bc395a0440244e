"""Azure Resource Manager subset: subscriptions, providers, resource groups,
storage accounts (+ blob containers in Azurite), Batch accounts, LROs."""
import base64
import json
import os
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from .common import BadJson, Response, iso_now, new_id

ARM_AUDIENCE = "https://management.azure.com/"

# Public Azure regions (name, display name)
REGIONS = [
    ("eastus", "East US"), ("eastus2", "East US 2"), ("southcentralus", "South Central US"),
    ("westus2", "West US 2"), ("westus3", "West US 3"), ("australiaeast", "Australia East"),
    ("southeastasia", "Southeast Asia"), ("northeurope", "North Europe"), ("swedencentral", "Sweden Central"),
    ("uksouth", "UK South"), ("westeurope", "West Europe"), ("centralus", "Central US"),
    ("southafricanorth", "South Africa North"), ("centralindia", "Central India"), ("eastasia", "East Asia"),
    ("japaneast", "Japan East"), ("koreacentral", "Korea Central"), ("newzealandnorth", "New Zealand North"),
    ("canadacentral", "Canada Central"), ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"), ("italynorth", "Italy North"), ("norwayeast", "Norway East"),
    ("polandcentral", "Poland Central"), ("spaincentral", "Spain Central"),
    ("switzerlandnorth", "Switzerland North"), ("mexicocentral", "Mexico Central"), ("uaenorth", "UAE North"),
    ("brazilsouth", "Brazil South"), ("israelcentral", "Israel Central"), ("qatarcentral", "Qatar Central"),
    ("northcentralus", "North Central US"), ("westus", "West US"), ("westcentralus", "West Central US"),
    ("japanwest", "Japan West"), ("australiacentral", "Australia Central"),
    ("australiasoutheast", "Australia Southeast"), ("southindia", "South India"), ("westindia", "West India"),
    ("canadaeast", "Canada East"), ("ukwest", "UK West"), ("koreasouth", "Korea South"),
    ("francesouth", "France South"), ("germanynorth", "Germany North"), ("norwaywest", "Norway West"),
    ("switzerlandwest", "Switzerland West"), ("swedensouth", "Sweden South"), ("uaecentral", "UAE Central"),
    ("brazilsoutheast", "Brazil Southeast"), ("southafricawest", "South Africa West"),
]
REGION_NAMES = [r[0] for r in REGIONS]
_REGION_BY_KEY = {}
for _n, _d in REGIONS:
    _REGION_BY_KEY[_n] = _n
    _REGION_BY_KEY[_d.lower().replace(" ", "")] = _n

RG_NAME_RE = re.compile(r"^[-\w._()]{1,90}$")
STORAGE_NAME_RE = re.compile(r"^[a-z0-9]{3,24}$")
BATCH_NAME_RE = re.compile(r"^[a-z0-9]{3,24}$")
CONTAINER_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$")
STORAGE_KINDS = ["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"]
STORAGE_SKUS = ["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS",
                "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS", "StandardV2_LRS", "StandardV2_GRS",
                "StandardV2_ZRS", "StandardV2_GZRS", "PremiumV2_LRS", "PremiumV2_ZRS"]

PROVIDERS = {
    "Microsoft.Storage": {"required": True, "types": {
        "storageAccounts": ["2025-08-01", "2025-06-01", "2025-01-01", "2024-01-01", "2023-05-01", "2023-01-01",
                            "2022-09-01", "2021-09-01"],
        "locations": ["2025-08-01", "2023-05-01"], "checkNameAvailability": ["2025-08-01", "2023-05-01"]}},
    "Microsoft.Batch": {"required": True, "types": {
        "batchAccounts": ["2026-08-01", "2025-06-01", "2024-07-01", "2024-02-01", "2023-11-01", "2022-10-01"],
        "locations": ["2026-08-01", "2024-07-01"], "locations/checkNameAvailability": ["2026-08-01", "2024-07-01"]}},
    "Microsoft.Resources": {"required": False, "types": {
        "resourceGroups": ["2025-04-01", "2024-03-01", "2022-09-01", "2021-04-01"],
        "subscriptions": ["2022-12-01"], "operationresults": ["2025-04-01"]}},
    "Microsoft.Compute": {"required": True, "types": {"virtualMachines": ["2024-07-01"]}},
    "Microsoft.Network": {"required": True, "types": {"virtualNetworks": ["2024-05-01"]}},
    "Microsoft.Authorization": {"required": False, "types": {"roleAssignments": ["2022-04-01"]}},
}
# Namespaces a fresh subscription has registered (the rest start NotRegistered)
INITIALLY_REGISTERED = {"Microsoft.Resources", "Microsoft.Authorization"}


class ArmError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers

    def response(self):
        err = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return Response(self.status, {"error": err}, headers=self.headers)


def norm_location(loc):
    if not isinstance(loc, str):
        return None
    return _REGION_BY_KEY.get(loc.lower().replace(" ", ""))


def rfc1123_to_iso(value):
    if not value:
        return None
    try:
        from email.utils import parsedate_to_datetime
        return parsedate_to_datetime(value).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    except (TypeError, ValueError):
        return None


def new_key():
    return base64.b64encode(os.urandom(64)).decode("ascii")


class Arm:
    def __init__(self, emu):
        self.emu = emu
        self.settings = emu.settings
        self.lock = threading.RLock()
        self.path = os.path.join(emu.state_dir, "arm.json")
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.st = json.load(f)
        else:
            self.st = {
                "subscription": str(uuid.uuid4()),
                "subscription_name": "azlua emulator subscription",
                "providers": {ns: {"state": "Registered" if ns in INITIALLY_REGISTERED else "NotRegistered",
                                   "polls": 0} for ns in PROVIDERS},
                "rgs": {}, "storage": {}, "batch": {}, "ops": {},
            }
        self._save()
        # Re-provision Azurite with the accounts of a previous run
        if emu.azurite is not None:
            for sa in self.st["storage"].values():
                emu.azurite.set_account(sa["name"], sa["keys"][0], sa["keys"][1])

    @property
    def subscription(self):
        return self.st["subscription"]

    def _save(self):
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.st, f)
        os.replace(tmp, self.path)

    def dump(self):
        with self.lock:
            d = json.loads(json.dumps(self.st))
        for sa in d["storage"].values():
            sa["keys"] = ["***", "***"]
        for ba in d["batch"].values():
            ba["keys"] = ["***", "***"]
        return d

    # -- headers -----------------------------------------------------------------
    def decorate(self, req, resp):
        rid = new_id()
        corr = req.headers.get("x-ms-correlation-request-id") or new_id()
        names = {k.lower() for k, _ in resp.headers}
        add = [("x-ms-request-id", rid), ("x-ms-correlation-request-id", corr),
               ("x-ms-routing-request-id", "%s:%s:%s" % (self.settings.get("location", "eastus").upper(),
                                                         time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), rid)),
               ("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1")]
        if req.method in ("GET", "HEAD"):
            add.append(("x-ms-ratelimit-remaining-subscription-reads", "249"))
        elif req.method == "DELETE":
            add.append(("x-ms-ratelimit-remaining-subscription-deletes", "199"))
        else:
            add.append(("x-ms-ratelimit-remaining-subscription-writes", "199"))
        crid = req.headers.get("x-ms-client-request-id")
        if crid:
            add.append(("x-ms-client-request-id", crid))
        for k, v in add:
            if k.lower() not in names:
                resp.headers.append((k, v))

    # -- entry -----------------------------------------------------------------------
    def handle(self, req):
        bad = self.emu.check_bearer(req, ARM_AUDIENCE)
        if bad is not None:
            return bad
        try:
            if not req.query.get("api-version"):
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            with self.lock:
                return self.route(req)
        except ArmError as e:
            return e.response()

    def body(self, req):
        if not req.body or not req.body.strip():
            return {}
        try:
            b = req.json()
        except BadJson as e:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: '%s'." % e)
        return b

    def validate(self, spec, definition, body):
        if not self.settings.get("validate", True):
            return
        errs = self.emu.specs.validate(spec, definition, body)
        if errs:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: '%s'." % errs[0],
                           details=[{"code": "InvalidRequestContent", "message": e} for e in errs[:20]])

    def route(self, req):
        segs = [s for s in req.path.split("/") if s != ""]
        low = [s.lower() for s in segs]
        m = req.method
        n = len(low)
        if n >= 1 and low[0] == "tenants" and n == 1:
            return Response(200, {"value": [{"id": "/tenants/" + self.emu.identity.tenant,
                                             "tenantId": self.emu.identity.tenant,
                                             "tenantCategory": "Home", "displayName": "azlua emulator",
                                             "defaultDomain": self.emu.identity.st["domain"]}]})
        if n == 0 or low[0] != "subscriptions":
            raise ArmError(404, "InvalidResourceType" if n else "NotFound",
                           "The resource type '%s' could not be found." % (segs[0] if segs else ""))
        if n == 1:
            return Response(200, {"value": [self.sub_body()], "count": {"type": "Total", "value": 1}})
        if segs[1].lower() != self.subscription.lower():
            raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % segs[1])
        if n == 2:
            return Response(200, self.sub_body())
        rest, lrest = segs[2:], low[2:]
        if lrest == ["locations"]:
            return Response(200, {"value": [self.location_body(x, d) for x, d in REGIONS]})
        if lrest[0] == "operationresults" and len(lrest) == 2:
            return self.poll(rest[1], req)
        if lrest[0] == "providers":
            return self.route_providers(req, rest[1:], lrest[1:], rg=None)
        if lrest[0] == "resourcegroups":
            if len(lrest) == 1:
                if m != "GET":
                    raise self.method_not_allowed(m)
                return self.page(req, [self.rg_body(g) for g in self.st["rgs"].values()])
            rgname = rest[1]
            if len(lrest) == 2:
                return self.resource_group(req, rgname)
            if lrest[2] == "providers":
                rg = self.get_rg(rgname)
                return self.route_providers(req, rest[3:], lrest[3:], rg=rg)
            if lrest[2] == "resources" and len(lrest) == 3:
                rg = self.get_rg(rgname)
                return self.page(req, [self.generic_body(x) for x in self.resources_in(rg)])
        raise ArmError(404, "NotFound", "No HTTP resource was found that matches the request URI '%s'." % req.path)

    def method_not_allowed(self, m):
        return ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % m)

    # -- subscription ------------------------------------------------------------
    def sub_body(self):
        s = self.subscription
        return {"id": "/subscriptions/" + s, "authorizationSource": "RoleBased", "managedByTenants": [],
                "subscriptionId": s, "tenantId": self.emu.identity.tenant,
                "displayName": self.st["subscription_name"], "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                         "spendingLimit": "Off"}}

    def location_body(self, name, display):
        return {"id": "/subscriptions/%s/locations/%s" % (self.subscription, name), "name": name,
                "displayName": display, "regionalDisplayName": "(Region) " + display,
                "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}}

    # -- paging ------------------------------------------------------------------
    def page(self, req, items):
        size = int(self.settings.get("page_size", 5))
        top = req.query.get("$top")
        if top and top.isdigit():
            size = max(1, min(size, int(top)))
        try:
            start = int(req.query.get("$skiptoken") or req.query.get("$skipToken") or 0)
        except ValueError:
            raise ArmError(400, "InvalidSkipToken", "The skip token is invalid.")
        chunk = items[start:start + size]
        body = {"value": chunk}
        if start + size < len(items):
            body["nextLink"] = "%s%s?api-version=%s&%%24skiptoken=%d" % (
                self.emu.base_url, req.raw_path, req.query.get("api-version"), start + size)
        return Response(200, body)

    # -- providers ---------------------------------------------------------------
    def provider_key(self, ns):
        for k in PROVIDERS:
            if k.lower() == ns.lower():
                return k
        return None

    def provider_body(self, ns, tick=False):
        p = self.st["providers"][ns]
        if tick and p["state"] == "Registering":
            p["polls"] += 1
            if p["polls"] > int(self.settings.get("provider_polls", 1)):
                p["state"] = "Registered"
            self._save()
        rts = []
        for rt, versions in PROVIDERS[ns]["types"].items():
            rts.append({"resourceType": rt, "locations": [d for _, d in REGIONS], "apiVersions": versions,
                        "defaultApiVersion": versions[0], "capabilities": "None"})
        return {"id": "/subscriptions/%s/providers/%s" % (self.subscription, ns), "namespace": ns,
                "registrationPolicy": "RegistrationRequired" if PROVIDERS[ns]["required"] else "RegistrationFree",
                "registrationState": p["state"], "resourceTypes": rts}

    def require_registered(self, ns):
        p = self.st["providers"][ns]
        if p["state"] == "Registering":
            # advancing here too lets clients that only retry the operation get through
            self.provider_body(ns, tick=True)
        if p["state"] != "Registered":
            msg = ("The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found "
                   "for how to register subscriptions." % ns)
            raise ArmError(409, "MissingSubscriptionRegistration", msg,
                           details=[{"code": "MissingSubscriptionRegistration", "target": ns, "message": msg}])

    def route_providers(self, req, rest, lrest, rg):
        m = req.method
        if not lrest:
            if rg is not None or m != "GET":
                raise ArmError(404, "NotFound", "Not found.")
            return self.page(req, [self.provider_body(ns, tick=True) for ns in PROVIDERS])
        ns = self.provider_key(rest[0])
        if ns is None:
            raise ArmError(404, "InvalidResourceNamespace", "The resource namespace '%s' is invalid." % rest[0])
        sub = lrest[1:]
        if rg is None and not sub:
            if m != "GET":
                raise self.method_not_allowed(m)
            return Response(200, self.provider_body(ns, tick=True))
        if rg is None and sub in (["register"], ["unregister"]):
            if m != "POST":
                raise self.method_not_allowed(m)
            p = self.st["providers"][ns]
            if sub == ["register"]:
                if p["state"] != "Registered":
                    p["state"], p["polls"] = "Registering", 0
            else:
                p["state"], p["polls"] = "Unregistering", 0
                p["state"] = "NotRegistered"
            self._save()
            return Response(200, self.provider_body(ns))
        if ns == "Microsoft.Storage":
            self.require_registered(ns)
            return self.route_storage(req, rest[1:], sub, rg)
        if ns == "Microsoft.Batch":
            self.require_registered(ns)
            return self.route_batch(req, rest[1:], sub, rg)
        self.require_registered(ns)
        raise ArmError(404, "InvalidResourceType", "The resource type '%s' could not be found in the namespace "
                       "'%s' for api version '%s'." % ("/".join(rest[1:2]), ns, req.query.get("api-version")))

    # -- resource groups -----------------------------------------------------------
    def rg_id(self, name):
        return "/subscriptions/%s/resourceGroups/%s" % (self.subscription, name)

    def rg_body(self, g):
        b = {"id": self.rg_id(g["name"]), "name": g["name"], "type": "Microsoft.Resources/resourceGroups",
             "location": g["location"], "properties": {"provisioningState": g["state"]}}
        if g.get("tags") is not None:
            b["tags"] = g["tags"]
        if g.get("managedBy"):
            b["managedBy"] = g["managedBy"]
        return b

    def find_rg(self, name):
        g = self.st["rgs"].get(name.lower())
        if g is not None and g["state"] == "Deleting":
            self.advance_ops()
            g = self.st["rgs"].get(name.lower())
        return g

    def get_rg(self, name):
        g = self.find_rg(name)
        if g is None:
            raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % name)
        return g

    def resource_group(self, req, name):
        m = req.method
        if m == "HEAD":
            return Response(204 if self.find_rg(name) else 404)
        if m == "GET":
            return Response(200, self.rg_body(self.get_rg(name)))
        if m in ("PUT", "PATCH"):
            body = self.body(req)
            if not RG_NAME_RE.match(name) or name.endswith("."):
                raise ArmError(400, "ResourceGroupNameInvalid",
                               "Resource group name '%s' is invalid. It can contain only alphanumeric characters, "
                               "periods, underscores, hyphens and parenthesis and cannot end in a period." % name)
            if not isinstance(body, dict):
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid.")
            g = self.find_rg(name)
            if m == "PATCH":
                if g is None:
                    raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % name)
                if "tags" in body:
                    g["tags"] = body["tags"]
                self._save()
                return Response(200, self.rg_body(g))
            self.validate("resources", "ResourceGroup", body)
            loc = norm_location(body.get("location"))
            if loc is None:
                raise ArmError(400, "LocationNotAvailableForResourceGroup",
                               "The provided location '%s' is not available for resource group. List of available "
                               "regions is '%s'." % (body.get("location"), ",".join(REGION_NAMES)))
            if g is not None:
                if g["state"] == "Deleting":
                    raise ArmError(409, "ResourceGroupBeingDeleted", "The resource group '%s' is in deprovisioning "
                                   "state and cannot perform this operation." % g["name"])
                if g["location"] != loc:
                    raise ArmError(409, "InvalidResourceGroupLocation",
                                   "Invalid resource group location '%s'. The Resource group already exists in "
                                   "location '%s'." % (loc, g["location"]))
                g["tags"] = body.get("tags", g.get("tags"))
                if "managedBy" in body:
                    g["managedBy"] = body["managedBy"]
                self._save()
                return Response(200, self.rg_body(g))
            g = {"name": name, "location": loc, "tags": body.get("tags"), "managedBy": body.get("managedBy"),
                 "state": "Succeeded", "created": time.time()}
            self.st["rgs"][name.lower()] = g
            self._save()
            return Response(201, self.rg_body(g))
        if m == "DELETE":
            g = self.find_rg(name)
            if g is None:
                raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % name)
            if g["state"] != "Deleting":
                g["state"] = "Deleting"
                op = self.new_op("rg_delete", name.lower())
                g["op"] = op["id"]
                for sa in self.st["storage"].values():
                    if sa["rg"].lower() == name.lower():
                        sa["state"] = "Deleting"
                for ba in self.st["batch"].values():
                    if ba["rg"].lower() == name.lower():
                        ba["state"] = "Deleting"
                self._save()
            return self.accepted(req, "/subscriptions/%s/operationresults/%s" % (self.subscription, g["op"]))
        raise self.method_not_allowed(m)

    def resources_in(self, rg):
        out = []
        for sa in self.st["storage"].values():
            if sa["rg"].lower() == rg["name"].lower():
                out.append(("Microsoft.Storage/storageAccounts", sa))
        for ba in self.st["batch"].values():
            if ba["rg"].lower() == rg["name"].lower():
                out.append(("Microsoft.Batch/batchAccounts", ba))
        return out

    def generic_body(self, item):
        t, r = item
        prov, typ = t.split("/")
        return {"id": "/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s" % (
            self.subscription, r["rg"], prov, typ, r["name"]), "name": r["name"], "type": t,
            "location": r["location"], "tags": r.get("tags") or {}}

    # -- LROs ----------------------------------------------------------------------------
    def new_op(self, kind, target, location=None):
        op = {"id": str(uuid.uuid4()), "kind": kind, "target": target, "polls": 0, "created": time.time(),
              "done": False, "location": location}
        self.st["ops"][op["id"]] = op
        return op

    def accepted(self, req, path, status=202, body=None):
        url = "%s%s?api-version=%s" % (self.emu.base_url, path, req.query.get("api-version"))
        return Response(status, body, headers=[("Location", url),
                                               ("Retry-After", str(self.settings.get("retry_after", 1)))])

    def op_ready(self, op, polled):
        if op["done"]:
            return True
        if polled:
            op["polls"] += 1
        enough = op["polls"] > int(self.settings.get("lro_polls", 2)) or \
            time.time() - op["created"] >= float(self.settings.get("lro_max_seconds", 10))
        if not enough:
            return False
        if op["kind"] == "storage_create":
            sa = self.st["storage"].get(op["target"])
            az = self.emu.azurite
            if sa is not None and az is not None and not az.ready(sa["name"], sa["keys"][0]):
                return False
        self.finish(op)
        return True

    def finish(self, op):
        op["done"] = True
        k, t = op["kind"], op["target"]
        if k == "storage_create":
            sa = self.st["storage"].get(t)
            if sa is not None and sa["state"] != "Deleting":
                sa["state"] = "Succeeded"
        elif k == "batch_create":
            ba = self.st["batch"].get(t)
            if ba is not None and ba["state"] != "Deleting":
                ba["state"] = "Succeeded"
        elif k == "batch_delete":
            self.st["batch"].pop(t, None)
        elif k == "rg_delete":
            for key in [x for x, sa in self.st["storage"].items() if sa["rg"].lower() == t]:
                self.drop_storage(key)
            for key in [x for x, ba in self.st["batch"].items() if ba["rg"].lower() == t]:
                self.st["batch"].pop(key, None)
            self.st["rgs"].pop(t, None)
        # forget old finished operations
        now = time.time()
        for oid in [i for i, o in self.st["ops"].items() if o["done"] and now - o["created"] > 3600]:
            del self.st["ops"][oid]
        self._save()

    def advance_ops(self):
        changed = False
        for op in list(self.st["ops"].values()):
            if not op["done"] and self.op_ready(op, polled=False):
                changed = True
        return changed

    def poll(self, op_id, req):
        if req.method != "GET":
            raise self.method_not_allowed(req.method)
        op = self.st["ops"].get(op_id)
        if op is None:
            raise ArmError(404, "NotFound",
                           "The operation '%s' could not be found." % op_id)
        if not self.op_ready(op, polled=True):
            self._save()
            return self.accepted(req, req.raw_path)
        k = op["kind"]
        if k == "storage_create":
            sa = self.st["storage"].get(op["target"])
            if sa is None:
                raise ArmError(404, "ResourceNotFound", "The storage account was deleted.")
            return Response(200, self.storage_body(sa))
        if k == "batch_create":
            ba = self.st["batch"].get(op["target"])
            if ba is None:
                raise ArmError(404, "ResourceNotFound", "The Batch account was deleted.")
            return Response(200, self.batch_body(ba))
        return Response(200)

    # -- storage -------------------------------------------------------------------------
    def storage_id(self, sa):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s" % (
            self.subscription, sa["rg"], sa["name"])

    def blob_endpoint(self, name):
        az = self.emu.azurite
        if az is None:
            return "https://%s.blob.core.windows.net/" % name
        return "%s/%s/" % (az.endpoint, name)

    def storage_body(self, sa):
        p = dict(sa["props"])
        p.update({
            "provisioningState": sa["state"],
            "primaryEndpoints": {"blob": self.blob_endpoint(sa["name"])},
            "primaryLocation": sa["location"], "statusOfPrimary": "available",
            "creationTime": sa["created_iso"],
            "keyCreationTime": {"key1": sa["key_times"][0], "key2": sa["key_times"][1]},
            "encryption": {"services": {"blob": {"enabled": True, "keyType": "Account",
                                                 "lastEnabledTime": sa["created_iso"]},
                                        "file": {"enabled": True, "keyType": "Account",
                                                 "lastEnabledTime": sa["created_iso"]}},
                           "keySource": "Microsoft.Storage"},
            "networkAcls": p.get("networkAcls") or {"bypass": "AzureServices", "virtualNetworkRules": [],
                                                    "ipRules": [], "defaultAction": "Allow"},
        })
        p.setdefault("minimumTlsVersion", "TLS1_0")
        p.setdefault("allowBlobPublicAccess", False)
        p.setdefault("supportsHttpsTrafficOnly", True)
        if sa["kind"] in ("StorageV2", "BlobStorage"):
            p.setdefault("accessTier", "Hot")
        return {"id": self.storage_id(sa), "name": sa["name"], "type": "Microsoft.Storage/storageAccounts",
                "location": sa["location"], "kind": sa["kind"],
                "sku": {"name": sa["sku"], "tier": "Premium" if sa["sku"].startswith("Premium") else "Standard"},
                "tags": sa.get("tags") or {}, "properties": p}

    def check_location(self, loc, rtype):
        n = norm_location(loc)
        if n is None:
            raise ArmError(400, "LocationNotAvailableForResourceType",
                           "The provided location '%s' is not available for resource type '%s'. List of available "
                           "regions for the resource type is '%s'." % (loc, rtype, ",".join(REGION_NAMES)))
        return n

    def find_storage(self, name, rg=None):
        sa = self.st["storage"].get(name.lower())
        if sa is not None and sa["state"] in ("Creating", "ResolvingDNS"):
            self.advance_ops()
        if sa is not None and rg is not None and sa["rg"].lower() != rg["name"].lower():
            return None
        return sa

    def get_storage(self, name, rg):
        sa = self.find_storage(name, rg)
        if sa is None:
            raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.Storage/storageAccounts/%s' under "
                           "resource group '%s' was not found. For more details please go to "
                           "https://aka.ms/ARMResourceNotFoundFix" % (name, rg["name"]))
        return sa

    def drop_storage(self, key):
        sa = self.st["storage"].pop(key, None)
        if sa is not None and self.emu.azurite is not None:
            self.emu.azurite.remove_account(sa["name"])

    def route_storage(self, req, rest, sub, rg):
        m = req.method
        if rg is None:
            if sub == ["checknameavailability"]:
                if m != "POST":
                    raise self.method_not_allowed(m)
                return self.storage_check_name(req)
            if sub == ["storageaccounts"]:
                return self.page(req, [self.storage_body(s) for s in self.st["storage"].values()])
            if len(sub) == 4 and sub[0] == "locations" and sub[2] == "asyncoperations":
                return self.poll(rest[3], req)
            if len(sub) == 3 and sub[0] == "locations" and sub[2] == "usages":
                return Response(200, {"value": [{"unit": "Count", "currentValue": len(self.st["storage"]),
                                                 "limit": 250, "name": {"value": "StorageAccounts",
                                                                        "localizedValue": "Storage Accounts"}}]})
            raise ArmError(404, "InvalidResourceType", "The resource type could not be found.")
        if not sub or sub[0] != "storageaccounts":
            raise ArmError(404, "InvalidResourceType", "The resource type '%s' could not be found in the namespace "
                           "'Microsoft.Storage'." % (rest[0] if rest else ""))
        if len(sub) == 1:
            return self.page(req, [self.storage_body(s) for s in self.st["storage"].values()
                                   if s["rg"].lower() == rg["name"].lower()])
        name = rest[1]
        if len(sub) == 2:
            return self.storage_account(req, rg, name)
        sa = self.get_storage(name, rg)
        if sub[2:] == ["listkeys"] and m == "POST":
            return Response(200, self.storage_keys(sa))
        if sub[2:] == ["regeneratekey"] and m == "POST":
            body = self.body(req)
            kn = str(body.get("keyName", "")).lower() if isinstance(body, dict) else ""
            if kn not in ("key1", "key2"):
                raise ArmError(400, "InvalidValuesForRequestParameters",
                               "Values for request parameters are invalid: keyName.")
            i = 0 if kn == "key1" else 1
            sa["keys"][i] = new_key()
            sa["key_times"][i] = iso_now()
            if self.emu.azurite is not None:
                self.emu.azurite.set_account(sa["name"], sa["keys"][0], sa["keys"][1])
                self.emu.azurite.wait_ready(sa["name"])
            self._save()
            return Response(200, self.storage_keys(sa))
        if len(sub) >= 5 and sub[2] == "blobservices" and sub[3] == "default" and sub[4] == "containers":
            return self.containers(req, sa, rest[5] if len(sub) > 5 else None, len(sub))
        if len(sub) == 4 and sub[2] == "blobservices" and sub[3] == "default":
            return Response(200, {"id": self.storage_id(sa) + "/blobServices/default", "name": "default",
                                  "type": "Microsoft.Storage/storageAccounts/blobServices",
                                  "properties": {"cors": {"corsRules": []},
                                                 "deleteRetentionPolicy": {"enabled": False}}})
        raise ArmError(404, "NotFound", "Not found.")

    def storage_keys(self, sa):
        return {"keys": [{"keyName": "key1", "value": sa["keys"][0], "permissions": "FULL",
                          "creationTime": sa["key_times"][0]},
                         {"keyName": "key2", "value": sa["keys"][1], "permissions": "FULL",
                          "creationTime": sa["key_times"][1]}]}

    def storage_check_name(self, req):
        body = self.body(req)
        if not isinstance(body, dict) or not body.get("name") or not body.get("type"):
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: 'Required property "
                           "'%s' not found in JSON.'." % ("name" if not (isinstance(body, dict) and
                                                                        body.get("name")) else "type"))
        if body["type"] != "Microsoft.Storage/storageAccounts":
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: 'Error converting value "
                           "\"%s\" to type 'Type'.'." % body["type"])
        name = body["name"]
        if not STORAGE_NAME_RE.match(name):
            return Response(200, {"nameAvailable": False, "reason": "AccountNameInvalid",
                                  "message": "%s is not a valid storage account name. Storage account name must be "
                                             "between 3 and 24 characters in length and use numbers and lower-case "
                                             "letters only." % name})
        if name.lower() in self.st["storage"]:
            return Response(200, {"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": "The storage account named %s is already taken." % name})
        return Response(200, {"nameAvailable": True})

    def storage_account(self, req, rg, name):
        m = req.method
        if m == "GET":
            return Response(200, self.storage_body(self.get_storage(name, rg)))
        if m == "DELETE":
            sa = self.find_storage(name, rg)
            if sa is None:
                return Response(204)
            self.drop_storage(name.lower())
            self._save()
            return Response(200)
        if m == "PATCH":
            sa = self.get_storage(name, rg)
            body = self.body(req)
            if isinstance(body, dict):
                if "tags" in body:
                    sa["tags"] = body["tags"]
                if isinstance(body.get("properties"), dict):
                    sa["props"].update(body["properties"])
                if isinstance(body.get("sku"), dict) and body["sku"].get("name"):
                    sa["sku"] = body["sku"]["name"]
            self._save()
            return Response(200, self.storage_body(sa))
        if m != "PUT":
            raise self.method_not_allowed(m)
        if not STORAGE_NAME_RE.match(name):
            raise ArmError(400, "AccountNameInvalid", "%s is not a valid storage account name. Storage account name "
                           "must be between 3 and 24 characters in length and use numbers and lower-case letters "
                           "only." % name)
        body = self.body(req)
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized.")
        self.validate("storage", "StorageAccountCreateParameters", body)
        for field, present in (("sku", isinstance(body.get("sku"), dict) and body["sku"].get("name")),
                               ("kind", body.get("kind")), ("location", body.get("location"))):
            if not present:
                raise ArmError(400, "InvalidRequestContent",
                               "The request content was invalid and could not be deserialized: 'Required property "
                               "'%s' not found in JSON. Path '', line 1, position 1.'." % field)
        if body["kind"] not in STORAGE_KINDS:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: 'Error converting value \"%s\" to type 'Kind'. Path 'kind'.'."
                           % body["kind"])
        if body["sku"]["name"] not in STORAGE_SKUS:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: 'Error converting value \"%s\" to type 'SkuName'. Path 'sku.name'.'."
                           % body["sku"]["name"])
        loc = self.check_location(body["location"], "Microsoft.Storage/storageAccounts")
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise ArmError(400, "InvalidRequestContent", "'properties' must be an object.")
        existing = self.st["storage"].get(name.lower())
        if existing is not None:
            if existing["rg"].lower() != rg["name"].lower():
                raise ArmError(409, "StorageAccountAlreadyTaken",
                               "The storage account named %s is already taken." % name)
            if existing["state"] == "Deleting":
                raise ArmError(409, "ResourceGroupBeingDeleted",
                               "The resource group is being deleted.")
            if existing["location"] != loc:
                raise ArmError(409, "InvalidResourceLocation", "The resource '%s' already exists in location '%s' "
                               "in resource group '%s'. A resource with the same name cannot be created in "
                               "location '%s'. Please select a new resource name." % (name, existing["location"],
                                                                                      rg["name"], loc))
            existing["tags"] = body.get("tags", existing.get("tags"))
            existing["props"].update(props)
            existing["sku"] = body["sku"]["name"]
            self._save()
            if existing["state"] != "Succeeded":
                op = self.st["ops"].get(existing.get("op"))
                return self.accepted(req, "/subscriptions/%s/providers/Microsoft.Storage/locations/%s/"
                                          "asyncoperations/%s" % (self.subscription, loc, op["id"]))
            return Response(200, self.storage_body(existing))
        now = iso_now()
        sa = {"name": name, "rg": rg["name"], "location": loc, "kind": body["kind"], "sku": body["sku"]["name"],
              "tags": body.get("tags"), "props": props, "keys": [new_key(), new_key()], "key_times": [now, now],
              "created_iso": now, "state": "ResolvingDNS"}
        op = self.new_op("storage_create", name.lower())
        sa["op"] = op["id"]
        self.st["storage"][name.lower()] = sa
        if self.emu.azurite is not None:
            self.emu.azurite.set_account(name, sa["keys"][0], sa["keys"][1])
        self._save()
        return self.accepted(req, "/subscriptions/%s/providers/Microsoft.Storage/locations/%s/asyncoperations/%s"
                             % (self.subscription, loc, op["id"]))

    # -- containers (through Azurite) ----------------------------------------------------
    def container_body(self, sa, name, headers=None, props=None):
        props = dict(props or {})
        b = {"id": self.storage_id(sa) + "/blobServices/default/containers/" + name, "name": name,
             "type": "Microsoft.Storage/storageAccounts/blobServices/containers"}
        if headers is not None:
            meta = {k[len("x-ms-meta-"):]: v for k, v in headers.items() if k.startswith("x-ms-meta-")}
            pa = headers.get("x-ms-blob-public-access")
            props.update({"publicAccess": {"container": "Container", "blob": "Blob"}.get(pa, "None"),
                          "leaseStatus": headers.get("x-ms-lease-status", "unlocked").capitalize(),
                          "leaseState": headers.get("x-ms-lease-state", "available").capitalize(),
                          "lastModifiedTime": rfc1123_to_iso(headers.get("last-modified")), "metadata": meta})
            b["etag"] = headers.get("etag")
        props.setdefault("defaultEncryptionScope", "$account-encryption-key")
        props.setdefault("denyEncryptionScopeOverride", False)
        props.setdefault("hasImmutabilityPolicy", False)
        props.setdefault("hasLegalHold", False)
        props.setdefault("deleted", False)
        props.setdefault("remainingRetentionDays", 0)
        b["properties"] = props
        return b

    def containers(self, req, sa, cname, depth):
        az = self.emu.azurite
        if az is None:
            raise ArmError(501, "NotImplemented", "This emulator runs without a blob service (Azurite).")
        if sa["state"] != "Succeeded":
            raise ArmError(409, "StorageAccountIsNotProvisioned", "The storage account provisioning state must be "
                           "'Succeeded' before executing the operation.")
        key = sa["keys"][0]
        acct = sa["name"]
        m = req.method
        if cname is None:
            if m != "GET":
                raise self.method_not_allowed(m)
            out, marker = [], None
            while True:
                q = [("comp", "list"), ("include", "metadata")] + ([("marker", marker)] if marker else [])
                st, h, data = az.request(acct, key, "GET", "/", q)
                if st != 200:
                    raise ArmError(502, "BlobServiceError", "Listing containers failed with %d." % st)
                root = ET.fromstring(data)
                for c in root.iter("Container"):
                    nm = c.findtext("Name")
                    pr = c.find("Properties")
                    meta = {x.tag: x.text or "" for x in (c.find("Metadata") or [])}
                    hdr = {"etag": pr.findtext("Etag") if pr is not None else None,
                           "last-modified": pr.findtext("Last-Modified") if pr is not None else None,
                           "x-ms-blob-public-access": pr.findtext("PublicAccess") if pr is not None else None}
                    hdr.update({"x-ms-meta-" + k: v for k, v in meta.items()})
                    out.append(self.container_body(sa, nm, hdr))
                marker = root.findtext("NextMarker")
                if not marker:
                    break
            return Response(200, {"value": out})
        if not CONTAINER_RE.match(cname):
            raise ArmError(400, "ContainerOperationFailure", "The specified container name '%s' is invalid. "
                           "Container names must be 3-63 lowercase letters, digits and hyphens." % cname)
        path = "/" + cname
        rq = [("restype", "container")]
        if m == "GET":
            st, h, _ = az.request(acct, key, "GET", path, rq)
            if st == 404:
                raise ArmError(404, "ContainerNotFound", "The specified container does not exist.")
            return Response(200, self.container_body(sa, cname, h))
        if m == "DELETE":
            st, h, _ = az.request(acct, key, "DELETE", path, rq)
            return Response(204 if st == 404 else 200)
        if m in ("PUT", "PATCH"):
            body = self.body(req)
            props = body.get("properties") or {} if isinstance(body, dict) else {}
            headers = {}
            for k, v in (props.get("metadata") or {}).items():
                headers["x-ms-meta-" + k] = str(v)
            pa = str(props.get("publicAccess") or "None").lower()
            if pa in ("container", "blob"):
                if not sa["props"].get("allowBlobPublicAccess", False):
                    raise ArmError(409, "PublicAccessNotPermitted",
                                   "Public access is not permitted on this storage account.")
                headers["x-ms-blob-public-access"] = pa
            st, h, data = az.request(acct, key, "PUT", path, rq, headers)
            created = st == 201
            if st == 409 or m == "PATCH":
                if st == 404:
                    raise ArmError(404, "ContainerNotFound", "The specified container does not exist.")
                q = rq + [("comp", "metadata")]
                hh = {k: v for k, v in headers.items() if k.startswith("x-ms-meta-")}
                az.request(acct, key, "PUT", path, q, hh)
            elif st not in (200, 201):
                raise ArmError(502, "BlobServiceError", "Creating the container failed with %d." % st)
            st, h, _ = az.request(acct, key, "GET", path, rq)
            return Response(201 if created else 200, self.container_body(sa, cname, h))
        raise self.method_not_allowed(m)

    # -- batch ---------------------------------------------------------------------------
    def batch_id(self, ba):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Batch/batchAccounts/%s" % (
            self.subscription, ba["rg"], ba["name"])

    def batch_endpoint(self, name):
        return "127.0.0.1:%d/batch/%s" % (self.emu.port, name)

    def batch_body(self, ba):
        p = {"accountEndpoint": self.batch_endpoint(ba["name"]),
             "nodeManagementEndpoint": "127.0.0.1:%d/batch/%s/_node" % (self.emu.port, ba["name"]),
             "provisioningState": ba["state"],
             "poolAllocationMode": ba["props"].get("poolAllocationMode", "BatchService"),
             "dedicatedCoreQuotaPerVMFamilyEnforced": True,
             "dedicatedCoreQuota": 500, "lowPriorityCoreQuota": 500,
             "dedicatedCoreQuotaPerVMFamily": [{"name": "standardDv3Family", "coreQuota": 500},
                                               {"name": "standardDSv3Family", "coreQuota": 500},
                                               {"name": "standardDv5Family", "coreQuota": 500},
                                               {"name": "standardDSv5Family", "coreQuota": 500},
                                               {"name": "standardAv2Family", "coreQuota": 500}],
             "poolQuota": 100, "activeJobAndJobScheduleQuota": 300,
             "publicNetworkAccess": ba["props"].get("publicNetworkAccess", "Enabled"),
             "allowedAuthenticationModes": ba["props"].get("allowedAuthenticationModes") or
             ["SharedKey", "AAD", "TaskAuthenticationToken"],
             "encryption": ba["props"].get("encryption") or {"keySource": "Microsoft.Batch"}}
        auto = ba["props"].get("autoStorage")
        if auto:
            a = {"storageAccountId": auto["storageAccountId"], "lastKeySync": ba["created_iso"],
                 "authenticationMode": auto.get("authenticationMode", "StorageKeys")}
            if auto.get("nodeIdentityReference"):
                a["nodeIdentityReference"] = auto["nodeIdentityReference"]
            p["autoStorage"] = a
        return {"id": self.batch_id(ba), "name": ba["name"], "type": "Microsoft.Batch/batchAccounts",
                "location": ba["location"], "tags": ba.get("tags") or {},
                "identity": ba.get("identity") or {"type": "None"}, "properties": p}

    def find_batch(self, name, rg=None):
        ba = self.st["batch"].get(name.lower())
        if ba is not None and ba["state"] in ("Creating", "Deleting"):
            self.advance_ops()
            ba = self.st["batch"].get(name.lower())
        if ba is not None and rg is not None and ba["rg"].lower() != rg["name"].lower():
            return None
        return ba

    def get_batch(self, name, rg):
        ba = self.find_batch(name, rg)
        if ba is None:
            raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.Batch/batchAccounts/%s' under resource "
                           "group '%s' was not found. For more details please go to "
                           "https://aka.ms/ARMResourceNotFoundFix" % (name, rg["name"]))
        return ba

    def storage_by_id(self, sid):
        m = re.match(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/"
                     r"storageAccounts/([^/]+)$", sid or "", re.I)
        if not m or m.group(1).lower() != self.subscription.lower():
            return None
        sa = self.st["storage"].get(m.group(3).lower())
        if sa is None or sa["rg"].lower() != m.group(2).lower():
            return None
        return sa

    def batch_account_info(self, name):
        """For the Batch data plane (Context.batch_account)."""
        with self.lock:
            ba = self.find_batch(name)
            if ba is None or ba["state"] != "Succeeded":
                return None
            info = {"name": ba["name"], "key1": ba["keys"][0], "key2": ba["keys"][1], "location": ba["location"],
                    "resource_group": ba["rg"], "id": self.batch_id(ba),
                    "endpoint": self.batch_endpoint(ba["name"]),
                    "allowedAuthenticationModes": self.batch_body(ba)["properties"]["allowedAuthenticationModes"],
                    "autoStorage": None}
            auto = ba["props"].get("autoStorage")
            if auto:
                sa = self.storage_by_id(auto.get("storageAccountId"))
                info["autoStorage"] = {"storageAccountId": auto.get("storageAccountId"),
                                       "lastKeySync": ba["created_iso"],
                                       "accountName": sa["name"] if sa else None,
                                       "key": sa["keys"][0] if sa else None,
                                       "blobEndpoint": self.blob_endpoint(sa["name"]) if sa else None}
            return info

    def route_batch(self, req, rest, sub, rg):
        m = req.method
        if rg is None:
            if sub == ["batchaccounts"]:
                return self.page(req, [self.batch_body(b) for b in self.st["batch"].values()])
            if len(sub) == 3 and sub[0] == "locations" and sub[2] == "checknameavailability":
                if m != "POST":
                    raise self.method_not_allowed(m)
                self.check_location(rest[1], "Microsoft.Batch/batchAccounts")
                return self.batch_check_name(req)
            if len(sub) == 4 and sub[0] == "locations" and sub[2] == "accountoperationresults":
                return self.poll("-".join(rest[3].split("-")[-5:]), req)
            if len(sub) == 3 and sub[0] == "locations" and sub[2] == "quotas":
                return Response(200, {"accountQuota": 50})
            raise ArmError(404, "InvalidResourceType", "The resource type could not be found.")
        if not sub or sub[0] != "batchaccounts":
            raise ArmError(404, "InvalidResourceType", "The resource type '%s' could not be found in the namespace "
                           "'Microsoft.Batch'." % (rest[0] if rest else ""))
        if len(sub) == 1:
            return self.page(req, [self.batch_body(b) for b in self.st["batch"].values()
                                   if b["rg"].lower() == rg["name"].lower()])
        name = rest[1]
        if len(sub) == 2:
            return self.batch_account(req, rg, name)
        ba = self.get_batch(name, rg)
        if sub[2:] == ["listkeys"] and m == "POST":
            if "SharedKey" not in self.batch_body(ba)["properties"]["allowedAuthenticationModes"]:
                raise ArmError(409, "OperationNotAllowed",
                               "Shared key authentication is not allowed for this account.")
            return Response(200, {"accountName": ba["name"], "primary": ba["keys"][0], "secondary": ba["keys"][1]})
        if sub[2:] == ["regeneratekeys"] and m == "POST":
            body = self.body(req)
            kn = str(body.get("keyName", "")).lower() if isinstance(body, dict) else ""
            if kn not in ("primary", "secondary"):
                raise ArmError(400, "InvalidRequestBody", "keyName must be Primary or Secondary.")
            ba["keys"][0 if kn == "primary" else 1] = new_key()
            self._save()
            return Response(200, {"accountName": ba["name"], "primary": ba["keys"][0], "secondary": ba["keys"][1]})
        raise ArmError(404, "NotFound", "Not found.")

    def batch_check_name(self, req):
        body = self.body(req)
        if not isinstance(body, dict) or not body.get("name"):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: 'Required property 'name' not found in JSON.'.")
        name = body["name"]
        if not BATCH_NAME_RE.match(name):
            return Response(200, {"nameAvailable": False, "reason": "Invalid",
                                  "message": "Account name must be at least 3 characters and at most 24 characters, "
                                             "and contain only numbers and lowercase letters."})
        if name.lower() in self.st["batch"]:
            return Response(200, {"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": "An account named '%s' is already in use." % name})
        return Response(200, {"nameAvailable": True})

    def batch_account(self, req, rg, name):
        m = req.method
        if m == "GET":
            return Response(200, self.batch_body(self.get_batch(name, rg)))
        if m == "DELETE":
            ba = self.find_batch(name, rg)
            if ba is None:
                return Response(204)
            if ba["state"] != "Deleting" or not ba.get("delete_op"):
                ba["state"] = "Deleting"
                op = self.new_op("batch_delete", name.lower())
                ba["delete_op"] = op["id"]
                self._save()
            return self.accepted(req, "/subscriptions/%s/providers/Microsoft.Batch/locations/%s/"
                                      "accountOperationResults/%s-%s" % (self.subscription, ba["location"],
                                                                         ba["name"], ba["delete_op"]))
        if m == "PATCH":
            ba = self.get_batch(name, rg)
            body = self.body(req)
            if isinstance(body, dict):
                if "tags" in body:
                    ba["tags"] = body["tags"]
                pr = body.get("properties")
                if isinstance(pr, dict):
                    if "autoStorage" in pr:
                        if pr["autoStorage"] and not self.storage_by_id(pr["autoStorage"].get("storageAccountId")):
                            raise ArmError(400, "InvalidRequestBody", "The specified storage account was not found.")
                    ba["props"].update(pr)
            self._save()
            return Response(200, self.batch_body(ba))
        if m != "PUT":
            raise self.method_not_allowed(m)
        if not BATCH_NAME_RE.match(name):
            raise ArmError(400, "AccountNameInvalid", "Account name must be at least 3 characters and at most 24 "
                           "characters, and contain only numbers and lowercase letters.")
        body = self.body(req)
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid.")
        self.validate("batch-mgmt", "BatchAccountCreateParameters", body)
        if not body.get("location"):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: 'Required property 'location' not found in JSON.'.")
        loc = self.check_location(body["location"], "Microsoft.Batch/batchAccounts")
        props = body.get("properties") or {}
        auto = props.get("autoStorage")
        if auto:
            sa = self.storage_by_id(auto.get("storageAccountId"))
            if sa is None:
                raise ArmError(400, "AutoStorageAccountNotFound",
                               "The specified auto-storage account '%s' could not be found."
                               % auto.get("storageAccountId"))
        existing = self.st["batch"].get(name.lower())
        if existing is not None:
            if existing["rg"].lower() != rg["name"].lower() or existing["location"] != loc:
                raise ArmError(409, "AccountAlreadyExists",
                               "An account named '%s' is already in use." % name)
            if existing["state"] == "Deleting":
                raise ArmError(409, "AccountBeingDeleted", "The account '%s' is being deleted." % name)
            existing["tags"] = body.get("tags", existing.get("tags"))
            self._save()
            if existing["state"] != "Succeeded":
                return self.accepted(req, "/subscriptions/%s/providers/Microsoft.Batch/locations/%s/"
                                          "accountOperationResults/%s-%s" % (self.subscription, loc, name,
                                                                             existing["op"]))
            return Response(200, self.batch_body(existing))
        now = iso_now()
        ba = {"name": name, "rg": rg["name"], "location": loc, "tags": body.get("tags"), "props": props,
              "identity": body.get("identity"), "keys": [new_key(), new_key()], "created_iso": now,
              "state": "Creating"}
        op = self.new_op("batch_create", name.lower())
        ba["op"] = op["id"]
        self.st["batch"][name.lower()] = ba
        self._save()
        return self.accepted(req, "/subscriptions/%s/providers/Microsoft.Batch/locations/%s/"
                                  "accountOperationResults/%s-%s" % (self.subscription, loc, name, op["id"]))
