//go:build !cgo

package opus

// Without cgo the package has no codec at all; this line makes the build
// say why instead of "build constraints exclude all Go files". The
// Makefile installs what cgo needs (gcc, pkg-config, libopus-dev).
var _ = package_media_opus_needs_cgo_and_libopus_dev
