/* azure.core.xml: expat to Lua tables, enough for Blob listings and service error bodies.
 *
 *   xml.parse(s) -> root   root = {name=, attrs={...}, text="direct text", [1]=child, ...}
 *                          raises "xml: <expat message> at line L column C"
 *   xml.find(el, name) -> first child named name | nil
 *   xml.text(el, name) -> text of that child | nil
 *   xml.children(el [, name]) -> list of (matching) children
 *   xml.escape(s) -> s with & < > " ' as entities
 *
 * No namespace processing (names keep their prefix). A DOCTYPE is refused outright: without a DTD
 * no entity can be declared, so entity expansion attacks cannot start. */
#include <string.h>

#include <expat.h>
#include <lauxlib.h>

#include "util/raise.h"
#include "util/sbuf.h"

#define XML_MAX_DEPTH 256
#define TEXT_HOLDER 2 /* stack slot of the table that owns the text buffers during a parse */

typedef struct {
  lua_State *L;
  XML_Parser parser;
  int depth;
  const char *refused; /* why we stopped the parser ourselves */
  sbuf *text[XML_MAX_DEPTH]; /* direct text of each open element, reused across siblings */
  int base; /* stack index of the element list's bottom */
} state;

static int state_gc(lua_State *L) {
  state *st = (state *)lua_touserdata(L, 1);
  if (st->parser) XML_ParserFree(st->parser);
  st->parser = NULL;
  return 0;
}

static void refuse(state *st, const char *why) {
  if (!st->refused) st->refused = why;
  XML_StopParser(st->parser, XML_FALSE);
}

/* The Lua stack holds the open elements; a closed one becomes its parent's next array item. */
static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
  state *st = (state *)ud;
  lua_State *L = st->L;
  if (st->refused) return;
  if (st->depth >= XML_MAX_DEPTH) {
    refuse(st, "nesting too deep");
    return;
  }
  luaL_checkstack(L, 4, "xml: nesting too deep");
  lua_createtable(L, 2, 3);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_createtable(L, 0, 0);
  for (int i = 0; attrs[i]; i += 2) {
    lua_pushstring(L, attrs[i + 1]);
    lua_setfield(L, -2, attrs[i]);
  }
  lua_setfield(L, -2, "attrs");
  if (!st->text[st->depth]) {
    st->text[st->depth] = sbuf_new(L);
    lua_rawseti(L, TEXT_HOLDER, st->depth + 1); /* alive as long as this parse */
  }
  st->text[st->depth]->len = 0;
  st->depth++;
}

static void on_end(void *ud, const XML_Char *name) {
  state *st = (state *)ud;
  lua_State *L = st->L;
  (void)name;
  if (st->refused) return;
  sbuf *t = st->text[--st->depth];
  lua_pushlstring(L, t->p ? t->p : "", t->len);
  lua_setfield(L, -2, "text");
  if (st->depth > 0) lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static void on_text(void *ud, const XML_Char *s, int len) {
  state *st = (state *)ud;
  if (st->depth > 0 && !st->refused) sbuf_add(st->text[st->depth - 1], s, (size_t)len);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sys, const XML_Char *pub, int internal) {
  (void)name, (void)sys, (void)pub, (void)internal;
  refuse((state *)ud, "DOCTYPE not allowed");
}

static void on_entity(void *ud, const XML_Char *name, int pe, const XML_Char *value, int len, const XML_Char *base,
                      const XML_Char *sys, const XML_Char *pub, const XML_Char *notation) {
  (void)name, (void)pe, (void)value, (void)len, (void)base, (void)sys, (void)pub, (void)notation;
  refuse((state *)ud, "entity declarations not allowed");
}

static void release_text(state *st) {
  for (int i = 0; i < XML_MAX_DEPTH && st->text[i]; i++) sbuf_free(st->text[i]);
}

static int l_parse(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  lua_newtable(L); /* TEXT_HOLDER */
  state *st = (state *)lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  st->L = L;
  if (luaL_newmetatable(L, "azure.xml.state")) {
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  st->parser = XML_ParserCreate("UTF-8");
  if (!st->parser) return azlua_raise(L, "xml: not enough memory");
  XML_SetUserData(st->parser, st);
  XML_SetElementHandler(st->parser, on_start, on_end);
  XML_SetCharacterDataHandler(st->parser, on_text);
  XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
  XML_SetEntityDeclHandler(st->parser, on_entity);
  st->base = lua_gettop(L);
  /* Expat takes an int length: feed large documents in pieces. */
  const char *p = s;
  size_t left = len;
  enum XML_Status rc = XML_STATUS_OK;
  do {
    int chunk = left > (1u << 30) ? (1 << 30) : (int)left;
    left -= (size_t)chunk;
    rc = XML_Parse(st->parser, p, chunk, left == 0);
    p += chunk;
  } while (rc == XML_STATUS_OK && left > 0);
  int line = (int)XML_GetCurrentLineNumber(st->parser), col = (int)XML_GetCurrentColumnNumber(st->parser) + 1;
  release_text(st);
  if (rc != XML_STATUS_OK || st->refused) {
    const char *why = st->refused ? st->refused : XML_ErrorString(XML_GetErrorCode(st->parser));
    return azlua_raise(L, "xml: %s at line %d column %d", why, line, col);
  }
  if (lua_gettop(L) != st->base + 1) return azlua_raise(L, "xml: no root element");
  XML_ParserFree(st->parser);
  st->parser = NULL;
  return 1;
}

/* ---- navigation helpers ---- */

static int name_is(lua_State *L, int el, const char *name) {
  lua_getfield(L, el, "name");
  const char *n = lua_tostring(L, -1);
  int same = n && strcmp(n, name) == 0;
  lua_pop(L, 1);
  return same;
}

/* Pushes the first child of the element at 1 named name and returns 1, or pushes nothing. */
static int find_child(lua_State *L, const char *name) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) == LUA_TTABLE && name_is(L, -1, name)) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

static int l_find(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *name = luaL_checkstring(L, 2);
  if (!find_child(L, name)) lua_pushnil(L);
  return 1;
}

static int l_text(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *name = luaL_checkstring(L, 2);
  if (!find_child(L, name)) {
    lua_pushnil(L);
    return 1;
  }
  lua_getfield(L, -1, "text");
  return 1;
}

static int l_children(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *name = luaL_optstring(L, 2, NULL);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1), k = 0;
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) == LUA_TTABLE && (!name || name_is(L, -1, name))) lua_rawseti(L, -2, ++k);
    else lua_pop(L, 1);
  }
  return 1;
}

static int l_escape(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < len; i++) {
    switch (s[i]) {
      case '&': luaL_addstring(&b, "&amp;"); break;
      case '<': luaL_addstring(&b, "&lt;"); break;
      case '>': luaL_addstring(&b, "&gt;"); break;
      case '"': luaL_addstring(&b, "&quot;"); break;
      case '\'': luaL_addstring(&b, "&apos;"); break;
      default: luaL_addchar(&b, s[i]);
    }
  }
  luaL_pushresult(&b);
  return 1;
}

int luaopen_azure_core_xml(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"parse", l_parse},       {"find", l_find},     {"text", l_text},
      {"children", l_children}, {"escape", l_escape}, {NULL, NULL},
  };
  luaL_newlib(L, fns);
  return 1;
}
