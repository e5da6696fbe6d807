@testable import Porter
import Testing

/// Which databases the migrator records under the released numbering: only one that applied
/// every migration of the retired numbering, as released, and nothing after.
@Suite struct RenumberingTests {
    var branch: [Int: String] {
        var recorded: [Int: String] = [:]
        for migration in Migration.all where migration.version <= 19 { recorded[migration.version] = migration.checksum }
        for migration in Migration.retired { recorded[migration.version] = migration.checksum }
        return recorded
    }

    @Test func aDatabaseWithTheWholeRetiredNumberingStandsForTwentyOneToTwentySix() {
        #expect(Migration.renumbering(of: branch)?.map(\.version) == Array(21...26))
    }

    @Test func anyOtherDatabaseIsNotRenumbered() {
        var partial = branch
        partial[24] = nil
        var edited = branch
        edited[22] = "0000000000000000"
        var released: [Int: String] = [:]
        for migration in Migration.all { released[migration.version] = migration.checksum }
        var later = branch
        later[27] = Migration.all.first { $0.version == 27 }?.checksum
        for recorded in [partial, edited, released, later, [:]] {
            #expect(Migration.renumbering(of: recorded) == nil)
        }
    }
}
