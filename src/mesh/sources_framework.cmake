# The framework on top of the parts: call context, server pipeline, client.
neosl_library(neosl_mesh
  SOURCES context.cpp server.cpp client.cpp metrics.cpp
  DEPS neosl_mesh_tls neosl_mesh_policy neosl_mesh_registry neosl_tee neosl_service_proto neosl_core gRPC::grpc++
       Boost::json fmt::fmt)
