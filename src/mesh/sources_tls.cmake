# tls: the mesh's CA (ca.cpp), mTLS credentials and peer checks (tls.cpp), the certificate
# rotator (cert_rotator.cpp), sharing OpenSSL and durable-file helpers (pki_util.cpp).
neosl_library(neosl_mesh_tls
  SOURCES ca.cpp tls.cpp cert_rotator.cpp pki_util.cpp
  DEPS neosl_core gRPC::grpc++ OpenSSL::SSL OpenSSL::Crypto Boost::json)
