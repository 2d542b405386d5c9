# syntax=docker/dockerfile:1
# controlgate: a static musl binary on scratch, with CA certificates (octocrab's TLS setup
# loads the system roots even for http:// API URLs). Runs as root: GitHub's Docker actions
# require it (the workspace mount is owned by the runner's uid).
FROM rust:1.95-alpine3.22 AS build
RUN apk add --no-cache musl-dev=~1 ca-certificates=~20
WORKDIR /src
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY tests ./tests
COPY data ./data
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin controlgate \
    && cp target/x86_64-unknown-linux-musl/release/controlgate /controlgate

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /controlgate /usr/local/bin/controlgate
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/controlgate"]
CMD ["run"]
