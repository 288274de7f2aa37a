# The service registry (registry.h): memory, file and etcd v3 (JSON gateway) backends.
neosl_library(neosl_mesh_registry
  SOURCES registry.cpp registry_file.cpp registry_etcd.cpp registry_etcd_http.cpp
  DEPS neosl_core Boost::json Boost::boost Threads::Threads)
