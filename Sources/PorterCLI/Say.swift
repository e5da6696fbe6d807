import Foundation

/// Prints a line straight to stdout, unbuffered, so it keeps its place among lines written
/// from other tasks and child processes even when stdout is a pipe.
package func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
