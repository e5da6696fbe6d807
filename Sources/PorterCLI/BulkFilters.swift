import ArgumentParser
import Foundation
import Porter

/// The filters every bulk action takes.
struct BulkFilters: ParsableArguments {
    @Option(help: "Only jobs in this queue.")
    var queue: String?

    @Option(help: "Only jobs of this method.")
    var method: String?

    var given: Bool { queue != nil || method != nil }

    func selection(_ status: JobStatus, since: Date? = nil) -> JobSelection {
        JobSelection(status: status, queue: queue, method: method, since: since)
    }
}
