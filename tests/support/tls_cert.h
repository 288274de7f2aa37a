// A throwaway self-signed P-256 certificate for 127.0.0.1/localhost, for TLS tests.
#pragma once

#include <string>

namespace neosl::testing {

// Writes cert.pem and key.pem into `dir`; returns false on failure.
bool WriteSelfSignedCert(const std::string& dir);

}  // namespace neosl::testing
