import ArgumentParser

/// The `porter` executable's benchmarks. Not part of any product, so a user's own executable
/// (`PorterCLI.main(registry:)`) carries none of it.
package enum PorterBench {
    /// The commands the `porter` executable adds: `porter bench`.
    package static let commands: [any ParsableCommand.Type] = [BenchCommand.self]
}
