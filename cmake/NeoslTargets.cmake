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

# neosl_test(name SOURCES … DEPS … [LABELS …]): a GoogleTest binary registered with ctest.
function(neosl_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  neosl_apply_flags(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
               ENVIRONMENT "NEOSL_BINARY=$<TARGET_FILE:neosl>")
endfunction()
