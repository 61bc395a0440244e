-- Documentation of azure (the top module), azure.identity, azure.output, azure.errors: the one
-- source of REPL help and of their types/*.lua stubs.
-- Entries: { name, "param: type, opt?: type", "return type", "what it does (a line or two)" }.
return {
  {
    module = "azure", doc = "azlua's top module: every submodule, loaded on first use (azure.batch, azure.arm, …).",
    fields = {
      { "version", "string", "azlua's version" },
      { "batch", "azure.batch", "" }, { "arm", "azure.arm", "" }, { "blob", "azure.blob", "" },
      { "identity", "azure.identity", "" }, { "output", "azure.output", "" },
    },
    functions = {},
  },
  {
    module = "azure.output", doc = "Results as json, table or tsv, like az's -o. The module is callable.",
    call = { "value: any, fmt?: \"json\"|\"table\"|\"tsv\", opts?: {columns?: string[], width?: integer}", "nil",
             "Prints value in that format (a lazy iterator is collected): azure.output(batch:pools(), \"json\")." },
    functions = {
      { "format", "value: any, fmt?: \"json\"|\"table\"|\"tsv\", opts?: {columns?: string[], width?: integer}", "string",
        "The text of value in that format; columns may be dotted (\"executionInfo.exitCode\")." },
      { "print", "value: any, fmt?: string, opts?: table", "nil", "Writes format(value, fmt, opts) to stdout." },
      { "add_option", "parser: table, default?: string", "table", "Adds -o/--output {json,table,tsv} to an azure.cli parser." },
    },
  },
  {
    module = "azure.identity", doc = "Credentials: cred:token(scope) gives a cached, refreshed access token.",
    functions = {
      { "default", "opts?: {cloud?: string|table}", "azure.identity.Credential",
        "Environment service principal → workload identity → managed identity → az CLI, first that works." },
      { "client_secret", "opts: {tenant: string, client_id: string, secret: string, cloud?: string|table}",
        "azure.identity.Credential", "A service principal with a secret." },
      { "client_certificate", "opts: {tenant: string, client_id: string, certificate_path: string}",
        "azure.identity.Credential", "A service principal with a certificate (PEM)." },
      { "from_sp", "sp: table|string, opts?: table", "azure.identity.Credential",
        "From what 'az ad sp create-for-rbac' printed ({appId, password, tenant})." },
      { "environment", "opts?: table", "azure.identity.Credential", "From AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET." },
      { "managed_identity", "opts?: {client_id?: string}", "azure.identity.Credential", "The VM's or App Service's managed identity." },
      { "workload_identity", "opts?: table", "azure.identity.Credential", "A federated token file (AKS workload identity)." },
      { "azure_cli", "opts?: table", "azure.identity.Credential", "Whoever 'az login' signed in." },
    },
  },
  {
    class = "azure.identity.Credential", module = "azure.identity", field = "Credential", global = "cred",
    doc = "A credential: tokens are cached per scope and refreshed before they expire.",
    methods = {
      { "token", "scope: string", "string", "An access token for scope (e.g. \"https://management.azure.com/.default\")." },
    },
  },
  {
    module = "azure.errors", doc = "The error object: status, code, message, request_id, details, retry_after.",
    functions = {
      { "is", "e: any, code?: string|integer|string[]", "boolean", "Whether e is an azure error (with that code or status)." },
      { "new", "t: table", "table", "A new error object." },
    },
  },
}
