# The action's image: the allure-host binary, a Java runtime with a pinned
# Allure 2 CLI, and a pinned Allure 3 with its Node.js. Build with scripts/build-image.sh (buildah) or docker build.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
# Only for builds behind a TLS-intercepting proxy: a CA bundle mounted into
# the build (scripts/build-image.sh does it); never copied into the image.
ARG BUILD_CA_BUNDLE=

# 1. The binary. Cache mounts keep the crate registry and target between builds.
FROM ${RUST_IMAGE} AS build
ARG BUILD_CA_BUNDLE
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY templates templates
COPY engines/allure3/package.json engines/allure3/package-lock.json engines/allure3/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    if [ -n "$BUILD_CA_BUNDLE" ]; then export CARGO_HTTP_CAINFO="$BUILD_CA_BUNDLE"; fi \
 && cargo build --release --locked \
 && install -m 0755 target/release/allure-host /usr/local/bin/allure-host

# 2. The Allure CLI, from the npm registry's tarball, checked against the
#    sha512 that package-lock.json records for the same version.
FROM ${DEBIAN_IMAGE} AS allure
ARG BUILD_CA_BUNDLE
ARG ALLURE_VERSION=2.34.1
ARG ALLURE_SHA512=978d9cb19d9bcfb15db49235b79cc0dc85ed399d1825a3fff893110bd82de9a047455508bbeeabfb717b291cac850efda2c2f3f7f307946a808c13d1a87d1017
RUN if [ -n "$BUILD_CA_BUNDLE" ]; then export CURL_CA_BUNDLE="$BUILD_CA_BUNDLE"; fi \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null \
 && curl -fsSL -o /tmp/allure.tgz "https://registry.npmjs.org/allure-commandline/-/allure-commandline-${ALLURE_VERSION}.tgz" \
 && echo "${ALLURE_SHA512}  /tmp/allure.tgz" | sha512sum -c - \
 && tar -xzf /tmp/allure.tgz -C /tmp \
 && mv /tmp/package/dist /opt/allure \
 && rm -rf /opt/allure/bin/allure.bat /tmp/allure.tgz /tmp/package

# 3. Allure 3 and the Node.js 22 it runs on, installed by `npm ci` from
#    engines/allure3's lock, which checks every package's integrity. The
#    Debian npm that runs the install stays in this stage.
FROM ${DEBIAN_IMAGE} AS allure3
ARG BUILD_CA_BUNDLE
COPY engines/allure3/package.json engines/allure3/package-lock.json /opt/allure3/
RUN if [ -n "$BUILD_CA_BUNDLE" ]; then export NODE_EXTRA_CA_CERTS="$BUILD_CA_BUNDLE"; fi \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends npm ca-certificates >/dev/null \
 && cd /opt/allure3 \
 && npm ci --no-audit --no-fund --loglevel=error \
 && ls node_modules/node-linux-*/bin/node \
 && rm -rf /root/.npm

# 4. Runtime: headless JRE, CA certificates, both engines and the binary.
FROM ${DEBIAN_IMAGE}
RUN apt-get update -qq \
 && mkdir -p /usr/share/man/man1 \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man
COPY --from=allure /opt/allure /opt/allure
COPY --from=allure3 /opt/allure3 /opt/allure3
COPY --from=build /usr/local/bin/allure-host /usr/local/bin/allure-host
COPY entrypoint.sh /entrypoint.sh
ENV ALLURE_BIN=/opt/allure/bin/allure \
    ALLURE3_HOME=/opt/allure3
# Allure 2's class-data-sharing archive, made the way allure-host makes it
# on a machine whose cache persists (a first publish marks, the second makes
# it, with the JVM options allure-host runs Allure with), and kept beside
# Allure, where allure-host looks first.
COPY examples/allure-results /tmp/warm/results
RUN cd /tmp/warm \
 && for run in 1 2; do XDG_CACHE_HOME=/tmp/warm/cache allure-host publish --results results --local-dir site >/dev/null; done \
 && mv cache/allure-host/jvm/allure-*.jsa /opt/allure/allure.jsa \
 && cd / && rm -rf /tmp/warm
ENTRYPOINT ["/entrypoint.sh"]
