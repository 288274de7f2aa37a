# The mesh across processes: gateway and echo replicas as separate `neosl serve --role` processes.
neosl_test(mesh_cluster_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cluster_test.cpp ${PROJECT_SOURCE_DIR}/tests/support/etcd_process.cpp
  DEPS neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 240
  POSTGRES)
add_dependencies(mesh_cluster_test neosl)
