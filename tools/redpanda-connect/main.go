// Command redpanda-connect is a minimal custom Redpanda Connect distribution
// for pitwall, built with scripts/connect.sh. It follows Redpanda Connect's
// documented "custom distribution" pattern: the CLI comes from the benthos
// service package and only the component packages pitwall needs are
// blank-imported (all Apache-2.0 "community" code, no enterprise packages).
package main

import (
	"context"

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

func main() {
	service.RunCLI(context.Background())
}
