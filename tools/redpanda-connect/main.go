// Command redpanda-connect is a minimal custom Redpanda Connect distribution
// for pitwall, built with scripts/connect.sh. It follows Redpanda Connect's
// documented "custom distribution" pattern: the CLI comes from the benthos
// service package and only the component packages pitwall needs are
// blank-imported (all Apache-2.0 "community" code, no enterprise packages).
package main

import (
	"context"
	"runtime/debug"

	"github.com/redpanda-data/benthos/v4/public/service"

	// Pure components: generate input, drop output, mapping/bloblang,
	// switch, log, branch and other processors, brokers, etc.
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	// IO components: stdin/file/http_server inputs, stdout/file/http_server
	// outputs (with Redpanda Connect's path-validating file output).
	_ "github.com/redpanda-data/connect/v4/public/components/io"

	// Kafka via franz-go: kafka_franz and redpanda inputs/outputs.
	_ "github.com/redpanda-data/connect/v4/public/components/kafka"
)

// connectModule is the Redpanda Connect release this distribution is built
// from; its version (from go.mod, read out of the binary's build info) is the
// one `--version` reports, not the version of the benthos core underneath.
const connectModule = "github.com/redpanda-data/connect/v4"

func connectVersion() (version, built string) {
	version, built = "unknown", ""
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, dep := range info.Deps {
		if dep.Path == connectModule {
			version = dep.Version
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.time" {
			built = s.Value
		}
	}
	return
}

func main() {
	version, built := connectVersion()
	service.RunCLI(context.Background(),
		service.CLIOptSetVersion(version, built),
		service.CLIOptSetBinaryName("redpanda-connect"),
		service.CLIOptSetProductName("Redpanda Connect (pitwall distribution)"),
	)
}
