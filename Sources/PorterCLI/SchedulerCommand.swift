import ArgumentParser
import Foundation
import Logging
import Porter
import ServiceLifecycle

/// `porter scheduler`: fires the config's scheduler_events until SIGTERM or SIGINT.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Fire scheduler_events (Frappe's keys); any number may run, each event fires once.")

    @Option(help: "JSON config file with scheduler_events. Default: PORTER_CONFIG.")
    var config: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let schedule = try SchedulerCommand.loadSchedule(config)
        var logger = Logger(label: "porter.scheduler")
        logger.logLevel = ProcessInfo.processInfo.environment["PORTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let exporter = try PorterCLI.traceExportServices(logger: logger)
        let porter = try connection.makeClient(maximumConnections: 2, logger: logger)
        let scheduler = Scheduler(client: porter, configuration: schedule, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: exporter + [.init(service: scheduler)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await porter.close()
    }

    /// The scheduler part of `--config`, else of `PORTER_CONFIG`, else nothing scheduled.
    static func loadSchedule(_ path: String?) throws -> ScheduleConfiguration {
        guard let path = path ?? ProcessInfo.processInfo.environment["PORTER_CONFIG"], !path.isEmpty else {
            return ScheduleConfiguration()
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(message: "cannot read the config file \(path); check the path given to --config or PORTER_CONFIG")
        }
        do {
            return try ScheduleConfiguration.parse(data)
        } catch let error as ConfigurationError {
            throw CommandFailure(message: "\(path): \(error)")
        }
    }
}

/// `porter schedule`: every scheduled event and method with its last and next fire time.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "List scheduler events and methods with their last and next fire times.")

    @Option(help: "JSON config file with scheduler_events. Default: PORTER_CONFIG.")
    var config: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let schedule = try SchedulerCommand.loadSchedule(config)
        let porter = try connection.makeClient(maximumConnections: 1)
        let entries = try await Scheduler(client: porter, configuration: schedule).entries()
        await porter.close()
        // Times in the zone the schedule's wall-clock times are read in.
        let zone = schedule.timeZone
        let rows = [["EVENT", "METHOD", "QUEUE", "LAST", "NEXT"]] + entries.map {
            [$0.event, $0.method, $0.queue, $0.lastFireAt.map { JobFormatting.timestamp($0, in: zone) } ?? "-",
             $0.nextFireAt.map { JobFormatting.timestamp($0, in: zone) } ?? "never"]
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        print("time zone: \(schedule.timeZone.identifier), tick: \(schedule.tickInterval)")
    }
}
