# policy: who may call what (authz YAML), how often (rate-limit YAML), retry backoff and the
# circuit breaker.
neosl_library(neosl_mesh_policy
  SOURCES policy.cpp resilience.cpp
  DEPS neosl_core yaml-cpp)
