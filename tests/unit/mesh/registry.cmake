# mesh registry tests: the memory and file backends, and the etcd backend against a real etcd
# started by the test (skipped when /usr/bin/etcd is missing).
neosl_test(mesh_registry_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/registry_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/registry_etcd_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/etcd_process.cpp
  DEPS neosl_mesh_registry neosl_test_support
  LABELS unit
  TIMEOUT 180)
