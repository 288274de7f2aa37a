# sandbox: the sim backend's process hardening (seccomp, namespaces, locked memory).
list(APPEND NEOSL_TEE_SOURCES sandbox.cpp locked_memory.cpp)
