# Test discovery: dropping a file in the right folder registers it with ctest.
#   tests/unit/test_NAME.c         libcheck program linked with the runtime   -> unit.NAME
#   tests/lua/test_NAME.lua        run by build/azlua                         -> lua.NAME
#   tests/emulator/tests/test_*.py unittest under Debian's /usr/bin/python3   -> emulator.NAME
#   tests/e2e/test_NAME.sh         bash, end to end                           -> e2e.NAME
set(AZLUA_TEST_ENV "AZLUA_BIN=$<TARGET_FILE:azlua>;AZLUA_SOURCE_DIR=${CMAKE_SOURCE_DIR};AZLUA_NO_PROGRESS=1")
set(AZLUA_PYTHON /usr/bin/python3)

file(GLOB unit_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
file(GLOB unit_support CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/support/*.c)
foreach(f ${unit_tests})
  get_filename_component(n ${f} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${n})
  if(NOT CHECK_FOUND)
    message(WARNING "check (libcheck) not found: unit test ${n} not built")
    continue()
  endif()
  add_executable(${n} ${f} ${unit_support})
  target_include_directories(${n} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit ${CURL_INCLUDE_DIRS})
  target_link_libraries(${n} PRIVATE azlua_runtime PkgConfig::CHECK)
  add_test(NAME unit.${short} COMMAND ${n} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(unit.${short} PROPERTIES LABELS unit TIMEOUT 300
                       ENVIRONMENT "${AZLUA_TEST_ENV};CK_FORK=yes")
endforeach()

file(GLOB lua_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/lua/test_*.lua)
foreach(f ${lua_tests})
  get_filename_component(n ${f} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${n})
  add_test(NAME lua.${short} COMMAND azlua ${f} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(lua.${short} PROPERTIES LABELS lua TIMEOUT 600 ENVIRONMENT "${AZLUA_TEST_ENV}")
endforeach()

file(GLOB py_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/emulator/tests/test_*.py)
foreach(f ${py_tests})
  get_filename_component(n ${f} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${n})
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${f})
  add_test(NAME emulator.${short} COMMAND ${AZLUA_PYTHON} -m unittest ${rel} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(emulator.${short} PROPERTIES LABELS emulator TIMEOUT 600 ENVIRONMENT "${AZLUA_TEST_ENV}")
endforeach()

file(GLOB e2e_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/test_*.sh)
foreach(f ${e2e_tests})
  get_filename_component(n ${f} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${n})
  add_test(NAME e2e.${short} COMMAND bash ${f} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(e2e.${short} PROPERTIES LABELS e2e TIMEOUT 900 ENVIRONMENT "${AZLUA_TEST_ENV}")
endforeach()

# The HTTP tests once more with file bodies through libcurl, the path every https request takes
# (by default a file body to plain-http loopback goes by sendfile: src/util/sendfile_http.h).
add_test(NAME lua.http_no_sendfile COMMAND azlua ${CMAKE_SOURCE_DIR}/tests/lua/test_http.lua WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(lua.http_no_sendfile PROPERTIES LABELS lua TIMEOUT 600 ENVIRONMENT "${AZLUA_TEST_ENV};AZLUA_SENDFILE=0")
