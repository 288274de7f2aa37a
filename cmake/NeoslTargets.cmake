# Helpers that give every target of ours the same flags.
# -Wmissing-field-initializers fires on C++20 designated initializers that rely on defaults.
set(NEOSL_WARNINGS -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND NEOSL_WARNINGS -Wshadow=local)
endif()
if(NEOSL_WERROR)
  list(APPEND NEOSL_WARNINGS -Werror)
endif()

function(neosl_apply_flags target)
  target_compile_options(${target} PRIVATE ${NEOSL_WARNINGS})
  target_compile_definitions(${target} PRIVATE BOOST_ASIO_NO_DEPRECATED)
  if(NEOSL_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${NEOSL_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${NEOSL_SANITIZE})
  endif()
endfunction()

# neosl_library(name SOURCES a.cpp … DEPS lib …): a static library rooted at src/.
function(neosl_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  neosl_apply_flags(${name})
endfunction()

# neosl_test(name SOURCES … DEPS … [LABELS …] [TIMEOUT s] [POSTGRES]): a GoogleTest binary
# registered with ctest. POSTGRES registers every test a second time as "pg.<test>", labelled
# postgres too, with NEOSL_TEST_STORE=postgres: the servers and stores it makes then run on a
# PostgreSQL cluster of its own (tests/support/test_store.h).
#
# Labels and the environment are lists, which gtest_discover_tests' PROPERTIES would split into
# separate arguments; they are set by a file ctest includes after the discovered tests instead.
function(neosl_test name)
  cmake_parse_arguments(ARG "POSTGRES" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  neosl_apply_flags(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} TEST_LIST ${name}_TESTS DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  set(properties "foreach(test IN LISTS ${name}_TESTS)
  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${ARG_LABELS}\"
    ENVIRONMENT \"NEOSL_BINARY=$<TARGET_FILE:neosl>\")
endforeach()
")
  if(ARG_POSTGRES)
    gtest_discover_tests(${name} TEST_PREFIX "pg." TEST_LIST ${name}_PG_TESTS DISCOVERY_TIMEOUT 60
      PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    string(APPEND properties "foreach(test IN LISTS ${name}_PG_TESTS)
  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${ARG_LABELS};postgres\"
    ENVIRONMENT \"NEOSL_BINARY=$<TARGET_FILE:neosl>;NEOSL_TEST_STORE=postgres\")
endforeach()
")
  endif()
  set(file "${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake")
  file(GENERATE OUTPUT "${file}" CONTENT "${properties}")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${file}")
endfunction()
