// Frappe's scheduler_events in Swift: a Scheduler service beside the worker. Each event
// fires once however many schedulers run.
import Foundation
import Logging
import Porter
import ServiceLifecycle

// snippet.hide
let logger = Logger(label: "app")
let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
// snippet.show
var schedule = ScheduleConfiguration(tickInterval: .seconds(60), timeZone: TimeZone(identifier: "Asia/Kolkata")!)
try schedule.add("hourly", method: "app.tasks.sync_stock")
try schedule.add("daily_long", method: "app.tasks.rebuild_reports")
try schedule.add(cron: "15 18 * * *", method: "app.tasks.evening_report")  // 18:15 in Kolkata
let scheduler = Scheduler(client: porter, configuration: schedule, logger: logger)
let worker = Worker(client: porter)
try await ServiceGroup(services: [worker, scheduler], gracefulShutdownSignals: [.sigterm], logger: logger).run()
