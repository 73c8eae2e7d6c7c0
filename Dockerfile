# Container image of everify: a static binary on distroless/static (CA certificates,
# tzdata, /etc/passwd with the nonroot user), running as nonroot (uid 65532).
#   docker build -t everify:dev --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm everify:dev check --offline jane@example.org
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
	-o /out/everify ./cmd/everify

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/everify /everify
USER nonroot:nonroot
# The reference lists live in the binary; `everify lists update` would write to
# $XDG_CACHE_HOME, which a read-only root file system needs mounted (see
# deploy/kubernetes).
ENV XDG_CACHE_HOME=/tmp/cache
ENTRYPOINT ["/everify"]
