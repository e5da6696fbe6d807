import Foundation

/// Prints a line straight to stdout, unbuffered, so it keeps its place among lines written
/// from other tasks and child processes even when stdout is a pipe.
package func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints a note for a person to stderr, so that it never mixes with what a command prints
/// for scripts on stdout (`id=$(porter enqueue ...)`).
package func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
