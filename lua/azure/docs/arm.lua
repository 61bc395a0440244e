-- Documentation of azure.arm: the one source of REPL help and of types/azure.arm.lua.
-- Entries: { name, "param: type, opt?: type", "return type", "what it does (a line or two)" }.
return {
  {
    module = "azure.arm", doc = "Azure Resource Manager: raw verbs, long-running operations followed, lazy paging.",
    functions = {
      { "client", "opts?: {credential?: azure.identity.Credential, subscription?: string, cloud?: string|table}",
        "azure.arm.Client", "An ARM client; \"{sub}\" in paths is its subscription." },
    },
  },
  {
    class = "azure.arm.Client", module = "azure.arm", field = "Client", global = "arm",
    doc = "Resource Manager for one subscription. Paths may hold {sub}; api-version is chosen per provider.",
    methods = {
      { "get", "path: string, opts?: {api_version?: string, query?: table}", "table", "GET a resource (decoded body)." },
      { "put", "path: string, body: table, opts?: {wait?: boolean, timeout?: number}", "table",
        "Creates or replaces a resource; a long-running operation is followed to the end (progress shown, Ctrl-C stops)." },
      { "patch", "path: string, body: table, opts?: table", "table", "Updates a resource (LRO followed)." },
      { "post", "path: string, body?: table, opts?: table", "table", "POST an action (listKeys, …)." },
      { "delete", "path: string, opts?: {wait?: boolean}", "table", "Deletes a resource (LRO followed)." },
      { "head", "path: string, opts?: table", "boolean", "Whether the resource exists." },
      { "list", "path: string, opts?: table", "fun(): table", "Lazy iterator over a list's items (follows nextLink)." },
      { "pages", "path: string, opts?: table", "fun(): table", "Lazy iterator over a list's pages." },
      { "provider", "namespace: string", "table", "A resource provider and its registration state." },
      { "register_provider", "namespace: string, opts?: table", "table", "Registers a provider and waits until registered." },
      { "resource_groups", "", "table", "Resource groups: :create(name, {location=}), :get, :exists, :delete, :list()." },
      { "storage_accounts", "rg: string", "table", "Storage accounts: :check_name, :create(name, body), :get, :keys, :key, :delete, :list()." },
      { "blob_containers", "rg: string, account: string", "table", "Blob containers through ARM: :create, :get, :delete, :list()." },
      { "batch_accounts", "rg: string", "table",
        "Batch accounts: :check_name, :create(name, {location=, storage_account_id=}), :get, :keys, :endpoint, :delete, :list()." },
      { "request", "method: string, path: string, body?: table, opts?: table", "table", "Any ARM call through the pipeline." },
    },
  },
}
