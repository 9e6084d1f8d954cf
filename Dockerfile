# The action's image: the allure-host binary, Allure 2 on a Java runtime cut
# to the modules it needs, and Allure 3 with its Node.js, on a root file
# system of five Debian packages. Build with scripts/build-image.sh (buildah)
# or docker build. docs/github-action.md says what each part weighs.
# scripts/build-image.sh passes the Rust of rust-toolchain.toml; this default
# is for a plain `docker build`.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
# Only for builds behind a TLS-intercepting proxy: a CA bundle mounted into
# the build (scripts/build-image.sh does it); never copied into the image.
ARG BUILD_CA_BUNDLE=

# 1. The binary, built with the `image` profile (LTO, one codegen unit, no
#    symbols). Cache mounts keep the crate registry and target between builds.
FROM ${RUST_IMAGE} AS build
ARG BUILD_CA_BUNDLE
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY src src
COPY templates templates
COPY engines/allure2/package.json engines/allure2/package-lock.json engines/allure2/
COPY engines/allure3/package.json engines/allure3/package-lock.json engines/allure3/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    if [ -n "$BUILD_CA_BUNDLE" ]; then export CARGO_HTTP_CAINFO="$BUILD_CA_BUNDLE"; fi \
 && cargo build --profile image --locked \
 && install -m 0755 target/image/allure-host /usr/local/bin/allure-host

# 2. A Java runtime of the modules Allure 2 uses (jdeps over its jars):
#    java.beans (java.desktop) for FreeMarker, java.sql for its CSV export,
#    java.logging for its log, jdk.unsupported for Jackson. java.desktop's
#    native libraries go: they draw, play and print, and Allure does none. So
#    do the JDK's translated messages: the image has no locales.
FROM ${DEBIAN_IMAGE} AS jre
RUN apt-get update -qq \
 && mkdir -p /usr/share/man/man1 \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless binutils >/dev/null \
 && translations=$(for l in de es fr it ja ko pt_BR sv zh_CN zh_HK zh_TW; do printf '/**_%s.class,' "$l"; done) \
 && jlink --add-modules java.base,java.desktop,java.logging,java.sql,java.xml,jdk.unsupported \
      --strip-debug --no-man-pages --no-header-files --compress=2 \
      --exclude-resources="${translations%,}" --output /opt/java \
 && strip --strip-unneeded /opt/java/lib/server/libjvm.so /opt/java/lib/*.so \
 && cd /opt/java/lib \
 && rm libawt.so libawt_headless.so libawt_xawt.so libfontmanager.so libjavajpeg.so \
      libjsound.so liblcms.so libmlib_image.so libsplashscreen.so

# 3. Both engines from their pins in engines/: `npm ci` checks every package
#    against the lock's integrity. Allure 2 loses the Jira and Xray export
#    plugins (17 MB; a publish never exports); Allure 3's Node.js loses its C
#    headers and symbols, its packages their source maps, type files and
#    docs, and Handlebars its optional minifier and source-map writer (only
#    its precompiler uses them).
FROM ${DEBIAN_IMAGE} AS engines
ARG BUILD_CA_BUNDLE
COPY engines/allure2/package.json engines/allure2/package-lock.json /tmp/allure2/
COPY engines/allure3/package.json engines/allure3/package-lock.json /opt/allure3/
RUN if [ -n "$BUILD_CA_BUNDLE" ]; then export NODE_EXTRA_CA_CERTS="$BUILD_CA_BUNDLE"; fi \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends npm ca-certificates binutils >/dev/null \
 && npm ci --prefix /tmp/allure2 --no-audit --no-fund --loglevel=error \
 && mv /tmp/allure2/node_modules/allure-commandline/dist /opt/allure \
 && rm -rf /opt/allure/bin/allure.bat /opt/allure/plugins/jira-plugin /opt/allure/plugins/xray-plugin \
 && sed -i '/jira-plugin\|xray-plugin/d' /opt/allure/config/allure.yml \
 && cd /opt/allure3 \
 && npm ci --no-audit --no-fund --loglevel=error \
 && rm -rf node_modules/node-linux-*/include node_modules/node-linux-*/share \
 && strip node_modules/node-linux-*/bin/node \
 && find node_modules \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -type f -delete \
 && rm -rf node_modules/uglify-js node_modules/source-map \
 && rm -rf /root/.npm /tmp/allure2

# 4. The root file system: glibc, libgcc, libstdc++ (Node.js and the JVM),
#    zlib (the JVM) and BusyBox for /bin/sh and the tools Allure 2's start
#    script calls, unpacked from Debian's packages; the CA bundle from
#    ca-certificates. No package manager, no locales, no iconv modules, none
#    of glibc's debugging, NIS or locale-compat libraries.
FROM ${DEBIAN_IMAGE} AS rootfs
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null \
 && mkdir -p /tmp/debs /rootfs/usr/bin /rootfs/usr/sbin /rootfs/usr/lib /rootfs/usr/lib64 \
 && cd /tmp/debs && apt-get download -qq libc6 libgcc-s1 libstdc++6 zlib1g busybox \
 && for dir in bin sbin lib lib64; do ln -s "usr/$dir" "/rootfs/$dir"; done \
 && for deb in *.deb; do dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C /rootfs; done \
 && rm -rf /rootfs/usr/share /rootfs/usr/lib/*-linux-gnu/gconv /rootfs/usr/libexec \
 && cd /rootfs/usr/lib/*-linux-gnu \
 && rm libBrokenLocale.so.1 libanl.so.1 libc_malloc_debug.so.0 libmemusage.so libnsl.so.1 \
      libnss_compat.so.2 libnss_hesiod.so.2 libpcprofile.so libthread_db.so.1 \
 && for applet in $(/rootfs/usr/bin/busybox --list); do \
      [ -e "/rootfs/usr/bin/$applet" ] || ln -s busybox "/rootfs/usr/bin/$applet"; done \
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp /rootfs/root \
 && chmod 1777 /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/bin/sh\n' >/rootfs/etc/passwd \
 && printf 'root:x:0:\n' >/rootfs/etc/group \
 && ldconfig -r /rootfs

# 5. Runtime.
FROM scratch
COPY --from=rootfs /rootfs /
COPY --from=jre /opt/java /opt/java
COPY --from=engines /opt/allure /opt/allure
COPY --from=engines /opt/allure3 /opt/allure3
COPY --from=build /usr/local/bin/allure-host /usr/local/bin/allure-host
COPY entrypoint.sh /entrypoint.sh
ENV PATH=/usr/local/bin:/opt/java/bin:/usr/bin:/bin \
    JAVA_HOME=/opt/java \
    ALLURE_BIN=/opt/allure/bin/allure \
    ALLURE3_HOME=/opt/allure3
# Allure 2's class-data-sharing archive, beside Allure where allure-host
# looks first: the classes a publish loads (listed by one publish of the
# example), with the JDK's, in one static archive made by Allure's own start
# script, so its class path is the one every run has, and with the serial GC
# every run uses (no archived heap: 3 MB less). -Xshare:on then fails the
# build if the archive cannot be used.
COPY examples/allure-results /tmp/warm/results
RUN cd /tmp/warm \
 && XDG_CACHE_HOME=/tmp/warm/cache JAVA_OPTS=-XX:DumpLoadedClassList=/tmp/warm/classes.lst \
      allure-host publish --results results --local-dir site >/dev/null \
 && JAVA_OPTS="-XX:+UseSerialGC -Xshare:dump -XX:SharedClassListFile=/tmp/warm/classes.lst -XX:SharedArchiveFile=/opt/allure/allure.jsa -Xlog:cds=off" \
      /opt/allure/bin/allure --version >/dev/null \
 && JAVA_OPTS="-XX:+UseSerialGC -Xshare:on -XX:SharedArchiveFile=/opt/allure/allure.jsa" \
      /opt/allure/bin/allure --version \
 && cd / && rm -rf /tmp/warm
ENTRYPOINT ["/entrypoint.sh"]
