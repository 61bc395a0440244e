"""Validate request bodies against the official OpenAPI (swagger 2.0) documents.

The specs live in ../shared/specs beside the repository (or $AZLUA_SHARED/specs).
When they are absent, validation is off and a notice is printed once.

Checks: $ref (local and relative files), allOf, required, types, enums
(unless x-ms-enum.modelAsString), unknown properties (where the schema has no
additionalProperties), minimum/maximum, minItems/maxItems, discriminators.
readOnly properties in a request are ignored, like the services do.
Messages follow the Newtonsoft.Json wording ARM and Batch return.
"""
import json
import os
import threading

SPEC_FILES = {
    "batch-data": "specification/batch/data-plane/Batch/stable/2026-10-01/BatchService.json",
    "batch-mgmt": "specification/batch/resource-manager/Microsoft.Batch/Batch/stable/2026-08-01/openapi.json",
    "resources": "specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/"
                 "resources.json",
    "storage": "specification/storage/resource-manager/Microsoft.Storage/stable/2025-08-01/storage.json",
}


# The Batch service rejects unknown enum values although its (TypeSpec-generated)
# spec marks every enum extensible (modelAsString); ARM RPs follow the spec.
STRICT_ENUMS = {"batch-data"}


def find_specs_dir():
    env = os.environ.get("AZLUA_SHARED")
    cands = []
    if env:
        cands.append(os.path.join(env, "specs"))
        cands.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    cands.append(os.path.join(os.path.dirname(repo), "shared", "specs"))
    for c in cands:
        if os.path.isdir(os.path.join(c, "specification")):
            return c
    return None


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int):
        return "Integer"
    if isinstance(v, float):
        return "Float"
    if isinstance(v, str):
        return "String"
    if isinstance(v, list):
        return "Array"
    return "Object"


def _path(base, name):
    if isinstance(name, int):
        return "%s[%d]" % (base, name)
    return "%s.%s" % (base, name) if base else name


class SpecValidator:
    def __init__(self, specs_dir=None, log=None):
        self.dir = specs_dir or find_specs_dir()
        self.log = log or (lambda m: None)
        self.lock = threading.Lock()
        self.files = {}
        if self.dir is None:
            self.available = False
            self.reason = "../shared/specs not found (set AZLUA_SHARED to enable)"
        else:
            self.available = True
            self.reason = None
        self._missing_noticed = set()
        self._local = threading.local()   # per-thread: strict enums for the current call

    def has(self, spec_name):
        if not self.available:
            return False
        rel = SPEC_FILES.get(spec_name)
        return bool(rel) and os.path.exists(os.path.join(self.dir, rel))

    def _load(self, path):
        path = os.path.normpath(path)
        with self.lock:
            doc = self.files.get(path)
            if doc is None:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
                self.files[path] = doc
            return doc

    def _resolve(self, ref, cur_file):
        file_part, _, pointer = ref.partition("#")
        path = os.path.join(os.path.dirname(cur_file), file_part) if file_part else cur_file
        path = os.path.normpath(path)
        node = self._load(path)
        for tok in pointer.split("/")[1:]:
            tok = tok.replace("~1", "/").replace("~0", "~")
            node = node[tok]
        return node, path

    def definition(self, spec_name, definition):
        rel = SPEC_FILES[spec_name]
        path = os.path.join(self.dir, rel)
        return self._resolve("#/definitions/" + definition, path)

    def validate(self, spec_name, definition, body):
        """List of error strings (empty when valid, or when specs are absent)."""
        if not self.available:
            return []
        if not self.has(spec_name):
            if spec_name not in self._missing_noticed:
                self._missing_noticed.add(spec_name)
                self.log("emulator: notice: spec %r not present; its bodies are not validated" % spec_name)
            return []
        try:
            schema, path = self.definition(spec_name, definition)
        except KeyError:
            return ["unknown definition %r in %s" % (definition, spec_name)]
        errors = []
        self._local.strict = spec_name in STRICT_ENUMS
        self._check(body, schema, path, "", errors, definition)
        return errors

    # -- core ------------------------------------------------------------------
    def _deref(self, schema, cur):
        name = None
        seen = 0
        while "$ref" in schema and seen < 50:
            ref = schema["$ref"]
            name = ref.rsplit("/", 1)[-1]
            schema, cur = self._resolve(ref, cur)
            seen += 1
        return schema, cur, name

    def _collect(self, schema, cur, props, required, state, depth=0):
        """Merge properties/required/additionalProperties over allOf."""
        schema, cur, _ = self._deref(schema, cur)
        if depth > 20:
            return
        for sub in schema.get("allOf", []):
            self._collect(sub, cur, props, required, state, depth + 1)
        for k, v in schema.get("properties", {}).items():
            props[k] = (v, cur)
        required.update(schema.get("required", []))
        if "additionalProperties" in schema and schema["additionalProperties"] is not False:
            state["additional"] = (schema["additionalProperties"], cur)
        if schema.get("type"):
            state["type"] = schema["type"]
        if schema.get("discriminator"):
            state["discriminator"] = (schema["discriminator"], cur)

    def _subtype(self, base_name, value, cur):
        doc = self._load(cur)
        for name, d in doc.get("definitions", {}).items():
            if d.get("x-ms-discriminator-value") == value or (name == value and name != base_name):
                for sub in d.get("allOf", []):
                    if sub.get("$ref", "").rsplit("/", 1)[-1] == base_name:
                        return d, name
        return None, None

    def _check(self, value, schema, cur, path, errors, type_name=None):
        schema, cur, ref_name = self._deref(schema, cur)
        type_name = ref_name or type_name or "Object"
        if value is None:
            return   # null is accepted for optional values (treated as absent)
        props, required, state = {}, set(), {}
        self._collect(schema, cur, props, required, state)
        typ = schema.get("type") or state.get("type")
        if typ is None and (props or "additional" in state):
            typ = "object"
        if typ == "object":
            if not isinstance(value, dict):
                errors.append("Error converting value %s to type '%s'. Path '%s'."
                              % (json.dumps(value)[:60], type_name, path))
                return
            disc = state.get("discriminator")
            if disc and isinstance(value.get(disc[0]), str):
                sub, sub_name = self._subtype(type_name, value[disc[0]], disc[1])
                if sub is not None:
                    return self._check(value, sub, disc[1], path, errors, sub_name)
            for r in sorted(required):
                if value.get(r) is None:
                    errors.append("Required property '%s' not found in JSON. Path '%s'." % (r, path))
            addl = state.get("additional")
            for k, v in value.items():
                p = _path(path, k)
                if k in props:
                    s, c = props[k]
                    sd, _, _ = self._deref(s, c)
                    if s.get("readOnly") or sd.get("readOnly"):
                        continue
                    self._check(v, s, c, p, errors, k)
                elif addl is not None:
                    if isinstance(addl[0], dict):
                        self._check(v, addl[0], addl[1], p, errors, k)
                elif props:
                    errors.append("Could not find member '%s' on object of type '%s'. Path '%s'."
                                  % (k, type_name, p))
            return
        if typ == "array":
            if not isinstance(value, list):
                errors.append("Error converting value %s to type 'Array'. Path '%s'."
                              % (json.dumps(value)[:60], path))
                return
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errors.append("Array at '%s' has %d items, more than the maximum %d."
                              % (path, len(value), schema["maxItems"]))
            if "minItems" in schema and len(value) < schema["minItems"]:
                errors.append("Array at '%s' has %d items, fewer than the minimum %d."
                              % (path, len(value), schema["minItems"]))
            items = schema.get("items")
            if items:
                for i, v in enumerate(value):
                    self._check(v, items, cur, _path(path, i), errors, type_name)
            return
        if typ == "string":
            if not isinstance(value, str):
                errors.append("Error converting value %s to type 'String'. Path '%s'."
                              % (json.dumps(value)[:60], path))
                return
            enum = schema.get("enum")
            xe = schema.get("x-ms-enum") or {}
            if enum and (getattr(self._local, "strict", False) or not xe.get("modelAsString", False)):
                if value.lower() not in [str(e).lower() for e in enum]:
                    errors.append("Error converting value \"%s\" to type '%s'. Path '%s'. Allowed values: %s."
                                  % (value, xe.get("name", type_name), path, ", ".join(map(str, enum))))
            return
        if typ in ("integer", "number"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            if typ == "number":
                ok = ok or isinstance(value, float)
            elif isinstance(value, float) and value.is_integer():
                ok = True
            if not ok:
                errors.append("Error converting value %s to type '%s'. Path '%s'."
                              % (json.dumps(value)[:60], "Int32" if typ == "integer" else "Double", path))
                return
            if "minimum" in schema and value < schema["minimum"]:
                errors.append("Value %s at '%s' is less than the minimum %s." % (value, path, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                errors.append("Value %s at '%s' is greater than the maximum %s."
                              % (value, path, schema["maximum"]))
            return
        if typ == "boolean":
            if not isinstance(value, bool):
                errors.append("Error converting value %s to type 'Boolean'. Path '%s'."
                              % (json.dumps(value)[:60], path))
            return
