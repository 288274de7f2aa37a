# syntax=docker/dockerfile:1
# The neosl image: the one binary on Debian 12, run as an unprivileged user.
#
#   docker build -t neosl:dev .
#   docker run --rm -p 8080:8080 neosl:dev          # role all: the whole platform, embedded defaults
#
# In Kubernetes the same image runs one role per pod (deploy/k8s/, docs/kubernetes.md).

# ---- build: scripts/install-deps, then only the `neosl` target ---------------------------------
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# The dependency layer first, so that a source change does not reinstall every package.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*
COPY . .
# NEOSL_WERROR off: the compiler warnings are CI's job (a Release build at -O3 warns where the
# tested RelWithDebInfo build does not), and an image should not fail on one.
# ccache keeps its cache between builds where BuildKit cache mounts are available.
ARG JOBS=
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DNEOSL_BUILD_TESTS=OFF -DNEOSL_BUILD_BENCH=OFF -DNEOSL_WERROR=OFF \
 && cmake --build /build --target neosl -j "${JOBS:-$(nproc)}" \
 && strip --strip-unneeded /build/neosl

# ---- runtime: the shared libraries of those packages, nothing else -----------------------------
FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The runtime halves of the -dev packages the build links (scripts/install-deps), one per line:
#   libssl-dev -> libssl3                          OpenSSL 3: TLS, X.509, crypto
#   libboost-json1.81-dev -> libboost-json1.81.0   Boost.JSON (+ libboost-container1.81.0, which it links)
#   libsqlite3-dev -> libsqlite3-0                 the embedded store
#   libpq-dev -> libpq5                            the PostgreSQL store
#   libprotobuf-dev -> libprotobuf32               protobuf 3.21
#   libgrpc++-dev -> libgrpc++1.51, libgrpc29      gRPC 1.51 (libgrpc, libgpr, libupb, address_sorting)
#     and gRPC's own: libabsl20220623, libre2-9, libc-ares2, zlib1g
#   libseccomp-dev -> libseccomp2                  the enclave's and function workers' syscall filters
#   libyaml-cpp-dev -> libyaml-cpp0.7              config and policies
#   libmozjs-102-dev -> libmozjs-102-0             SpiderMonkey, the functions runtime
#   libspdlog-dev -> libspdlog1.10, libfmt-dev -> libfmt9   logs
#   (gcc) -> libatomic1
# and files neosl reads at run time: ca-certificates (enclave.ca_file, HTTPS made inside the
# enclave) and tzdata (automation.zoneinfo_dir, cron triggers in named time zones).
# Boost.Beast/Asio and CLI11 are header-only. The ldd check below fails the build if this list
# misses a library the binary needs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      tzdata \
      libssl3 \
      libboost-json1.81.0 \
      libboost-container1.81.0 \
      libsqlite3-0 \
      libpq5 \
      libprotobuf32 \
      libgrpc++1.51 \
      libgrpc29 \
      libabsl20220623 \
      libre2-9 \
      libc-ares2 \
      zlib1g \
      libseccomp2 \
      libyaml-cpp0.7 \
      libmozjs-102-0 \
      libspdlog1.10 \
      libfmt9 \
      libatomic1 \
 && rm -rf /var/lib/apt/lists/*

# uid/gid 10001, as runAsUser in deploy/k8s. The data directory is the default --data below.
RUN groupadd --system --gid 10001 neosl \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/neosl --no-create-home \
      --shell /usr/sbin/nologin neosl \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/neosl

COPY --from=build /build/neosl /usr/local/bin/neosl
RUN ! ldd /usr/local/bin/neosl | grep 'not found' \
 && /usr/local/bin/neosl --help >/dev/null

USER 10001:10001
WORKDIR /var/lib/neosl
# 8080: REST API of roles all and gateway (listen). 7443: mesh gRPC of the service roles
# (mesh.listen). 9090: /v1/health, /v1/ready and /metrics of the service roles
# (observability.listen). The ports are whatever the configuration says; these are the ones
# deploy/k8s configures.
EXPOSE 8080 7443 9090
# Flags, not ENV: a NEOSL_* variable baked into the image would override the config file
# Kubernetes mounts, while the pods' own args replace this CMD.
ENTRYPOINT ["/usr/local/bin/neosl", "serve"]
CMD ["--listen", "0.0.0.0:8080", "--data", "/var/lib/neosl"]
