# syntax=docker/dockerfile:1
# controlgate's image packages binaries built and tested beforehand — no compiler, no network:
# `scripts/image-rootfs.sh rootfs/<arch> <static controlgate binary>` stages each architecture's
# root filesystem (the musl binary, git with the libraries it loads for changed lines and the
# git evidence store, CA certificates, a writable /tmp), then
#   docker buildx build --platform linux/amd64,linux/arm64 .
# packages them (the release workflow does both; tests build the same file with podman).
# Runs as root: GitHub's Docker actions require it (the workspace mount is owned by the
# runner's uid); files controlgate writes into the workspace are given the workspace's owner.
FROM scratch
ARG TARGETARCH
COPY rootfs/${TARGETARCH}/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    TMPDIR=/tmp
ENTRYPOINT ["/usr/local/bin/controlgate"]
CMD ["run"]
