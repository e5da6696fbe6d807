import ArgumentParser

/// The `porter` executable's demo: ScoopJoy's stock sync and the transactional-enqueue demo.
/// Not part of any product, so a user's own executable (`PorterCLI.main(registry:)`) carries
/// none of it.
package enum PorterDemo {
    /// The commands the `porter` executable adds: `porter demo`.
    package static let commands: [any ParsableCommand.Type] = [DemoCommand.self]
}
