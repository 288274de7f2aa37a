#include "apps/neosl/ca_cli.h"

#include <cstdio>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/encoding.h"
#include "mesh/ca.h"
#include "mesh/tls.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

struct CaFlags {
  std::string dir;
  std::string name = "neosl mesh CA";
  std::string service;
  std::string out = ".";
  std::string serial;
  int hours = 24;
};

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl ca %.*s: %.*s\n", int(command.size()), command.data(), int(s.message().size()),
               s.message().data());
  return 1;
}

int Print(const json::object& out) {
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

int Init(const CaFlags& f) {
  mesh::CertificateAuthority::InitOptions options;
  options.name = f.name;
  auto ca = mesh::CertificateAuthority::Init(f.dir, options, SystemClock::Instance());
  if (!ca.ok()) return Fail("init", ca.status());
  auto info = mesh::InspectCertificate((*ca)->ca_cert_pem());
  if (!info.ok()) return Fail("init", info.status());
  return Print({{"dir", f.dir},
                {"ca_cert", f.dir + "/ca.crt"},
                {"fingerprint", info->sha256_hex},
                {"not_after", FormatRfc3339Millis(info->not_after_ms)}});
}

int Issue(const CaFlags& f) {
  auto ca = mesh::CertificateAuthority::Open(f.dir, SystemClock::Instance());
  if (!ca.ok()) return Fail("issue", ca.status());
  auto cert = (*ca)->Issue(f.service, std::chrono::hours(f.hours));
  if (!cert.ok()) return Fail("issue", cert.status());
  mesh::IdentityFiles files{f.out, f.service};
  if (Status s = mesh::WriteIdentityFiles(files, *cert, (*ca)->ca_cert_pem(), (*ca)->crl_pem()); !s.ok()) {
    return Fail("issue", s);
  }
  return Print({{"service", cert->identity},
                {"serial", cert->serial_hex},
                {"not_before", FormatRfc3339Millis(cert->not_before_ms)},
                {"not_after", FormatRfc3339Millis(cert->not_after_ms)},
                {"cert", files.cert_file()},
                {"key", files.key_file()}});
}

int Revoke(const CaFlags& f) {
  auto ca = mesh::CertificateAuthority::Open(f.dir, SystemClock::Instance());
  if (!ca.ok()) return Fail("revoke", ca.status());
  if (Status s = (*ca)->Revoke(f.serial); !s.ok()) return Fail("revoke", s);
  return Print({{"serial", f.serial}, {"revoked", true}, {"crl", f.dir + "/crl.pem"}});
}

int List(const CaFlags& f) {
  auto ca = mesh::CertificateAuthority::Open(f.dir, SystemClock::Instance());
  if (!ca.ok()) return Fail("list", ca.status());
  auto records = (*ca)->List();
  if (!records.ok()) return Fail("list", records.status());
  json::array list;
  for (const mesh::IssuedRecord& r : *records) {
    json::object o{{"service", r.identity},
                   {"serial", r.serial_hex},
                   {"not_before", FormatRfc3339Millis(r.not_before_ms)},
                   {"not_after", FormatRfc3339Millis(r.not_after_ms)}};
    if (r.revoked_at_ms) o["revoked_at"] = FormatRfc3339Millis(*r.revoked_at_ms);
    list.push_back(std::move(o));
  }
  return Print({{"certificates", std::move(list)}});
}

}  // namespace

std::function<int()> AddCaCommands(CLI::App& app) {
  auto f = std::make_shared<CaFlags>();
  auto* ca = app.add_subcommand("ca", "The mesh's internal certificate authority (mTLS between services)");
  ca->require_subcommand(1);

  auto* init = ca->add_subcommand("init", "Create a CA (P-256 root, empty CRL) in a new directory");
  init->add_option("--dir", f->dir, "CA directory (created 0700; must not hold a CA yet)")->required();
  init->add_option("--name", f->name, "the root certificate's common name")->capture_default_str();

  auto* issue = ca->add_subcommand("issue", "Issue a service certificate and key");
  issue->add_option("--dir", f->dir, "CA directory")->required();
  issue->add_option("--service", f->service, "the service identity (CN), 1-63 of [a-z0-9-]")->required();
  issue->add_option("--hours", f->hours, "validity in hours (24-48)")->capture_default_str();
  issue->add_option("--out", f->out, "where to write SERVICE.crt, SERVICE.key, ca.crt and crl.pem")
      ->capture_default_str();

  auto* revoke = ca->add_subcommand("revoke", "Revoke a certificate by serial and re-issue the CRL");
  revoke->add_option("--dir", f->dir, "CA directory")->required();
  revoke->add_option("--serial", f->serial, "the serial (hex) as `neosl ca list` shows it")->required();

  auto* list = ca->add_subcommand("list", "List every certificate the CA issued");
  list->add_option("--dir", f->dir, "CA directory")->required();

  return [=]() -> int {
    if (init->parsed()) return Init(*f);
    if (issue->parsed()) return Issue(*f);
    if (revoke->parsed()) return Revoke(*f);
    if (list->parsed()) return List(*f);
    return -1;
  };
}

}  // namespace neosl::app
