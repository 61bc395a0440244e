/* The JSON codec behind azure.core.json, split from the Lua face so other C code can use it.
 *
 * Why not cJSON: it keeps every number as a double (2^53+1 and the int64 extremes would change),
 * reports no error position, and builds a whole second tree before Lua sees a value. This codec
 * reads the text straight into Lua values and writes Lua values straight into one buffer. */
#ifndef AZLUA_JSON_CODEC_H
#define AZLUA_JSON_CODEC_H

#include <lua.h>

/* Registry names of the metatables that mark a table as a JSON array / object. A metatable of
 * one's own may carry __jsontype = "array" | "object" instead. */
#define JSON_ARRAY_MT "azure.json.array"
#define JSON_OBJECT_MT "azure.json.object"
#define JSON_DEFAULT_DEPTH 1000

enum json_kind { JSON_EMPTY, JSON_ARRAY, JSON_OBJECT };

/* json.null: a light userdata whose address is unique to this library. */
void json_push_null(lua_State *L);
int json_is_null(lua_State *L, int idx);

/* Creates the two marker metatables in the registry (idempotent). */
void json_init_metatables(lua_State *L);

/* Pushes the value decoded from s; raises "json: ... at line L column C (byte B)". */
void json_decode(lua_State *L, const char *s, size_t len, int max_depth);

struct json_encode_opts {
  int indent;    /* spaces per level; 0 = compact */
  int sort_keys; /* object keys in byte order */
  int max_depth;
};
/* Pushes the JSON text of the value at idx; raises "json: ..." when it cannot be encoded. */
void json_encode(lua_State *L, int idx, const struct json_encode_opts *opts);

/* How the table at idx would encode; raises on mixed or sparse keys. *n gets an array's length. */
enum json_kind json_table_kind(lua_State *L, int idx, lua_Integer *n);

#endif
