#!/bin/sh
# The init container of every neosl pod. Kubernetes mounts Secrets read-only, owned by root
# and as symbolic links; neosl wants its platform secret and signer key as regular files of its
# own with mode 0600 (it refuses anything else) and a writable CA directory (issuing a
# certificate writes the CA's serial counter and issued list). So the Secrets are copied into
# the pod's memory-backed volumes, which only this pod can see.
set -eu
umask 077
fail() { echo "neosl provision: $*; see docs/kubernetes.md, \"Secrets\"" >&2; exit 1; }

enclave=/etc/neosl/enclave; keys=/var/lib/neosl-keys; sealed=/var/lib/neosl-enclave; data=/var/lib/neosl
for f in platform.secret enclave-signer.key keys.sealed; do
  [ -s "$enclave/$f" ] || fail "Secret neosl-enclave has no $f"
done
for f in platform.secret enclave-signer.key; do
  [ "$(wc -c < "$enclave/$f")" -eq 32 ] || fail "$f in Secret neosl-enclave is not 32 bytes"
done
cp "$enclave/platform.secret" "$keys/platform.secret"
cp "$enclave/enclave-signer.key" "$data/enclave-signer.key"
cp "$enclave/keys.sealed" "$sealed/keys.sealed"
chmod 600 "$keys/platform.secret" "$data/enclave-signer.key" "$sealed/keys.sealed"

ca_in=/etc/neosl/mesh-ca; ca=/var/lib/neosl-ca
for f in ca.crt ca.key crl.pem; do
  [ -s "$ca_in/$f" ] || fail "Secret neosl-mesh-ca has no $f"
done
cp "$ca_in/ca.crt" "$ca_in/ca.key" "$ca/"
chmod 600 "$ca/ca.key"
chmod 644 "$ca/ca.crt"
# The CRL stays a link into the live Secret mount of the main container, so an updated
# Secret reaches every pod (each copies it into its mesh directory every 10 s).
ln -sfn /etc/neosl/mesh-crl/crl.pem "$ca/crl.pem"
# The serial counter fills the low half of each serial only; the high half is random, so
# pods counting from 1 on their own copies never issue the same serial.
[ -f "$ca/serial" ] || echo 1 > "$ca/serial"
[ -f "$ca/issued.json" ] || echo '{"certificates":[]}' > "$ca/issued.json"
echo "neosl provision: enclave keys and mesh CA in place"
