import Foundation
import Porter
import PropertyBased
import Testing

@Suite struct WorkerConfigurationTests {
    func parse(_ json: String) throws -> WorkerConfiguration {
        try WorkerConfiguration.parse(Data(json.utf8))
    }

    @Test func defaultsAreFrappesQueues() throws {
        let configuration = try parse("{}")
        #expect(configuration.queue("short").timeout == 300)
        #expect(configuration.queue("default").timeout == 300)
        #expect(configuration.queue("long").timeout == 1500)
        #expect(configuration.queue("default").maxAttempts == 1)
        #expect(configuration.queue("default").backgroundWorkers == 1)
        #expect(configuration.sqlSchemas.isEmpty)
        #expect(configuration.shutdownGrace == .seconds(30))
    }

    @Test func customQueuesAndReconfiguredBuiltInsUseFrappesKeys() throws {
        let configuration = try parse("""
            {"workers": {"myqueue": {"timeout": 5000, "background_workers": 4},
                         "default": {"background_workers": 8, "max_attempts": 3},
                         "single": {"background_workers": 1, "max_attempts": 1}},
             "poll_interval": 1, "poll_only": true, "job_events": false, "vacuum_threshold": 0,
             "sql_schemas": ["app"], "scheduler_events": {"daily": ["x"]}}
            """)
        #expect(configuration.queue("myqueue") == QueueConfiguration(timeout: 5000, backgroundWorkers: 4, maxAttempts: 1))
        #expect(configuration.queue("default") == QueueConfiguration(timeout: 300, backgroundWorkers: 8, maxAttempts: 3))
        #expect(configuration.queue("long").timeout == 1500)
        #expect(configuration.sqlSchemas == ["app"])
        #expect(configuration.queue("single").backgroundWorkers == 1)
        #expect(configuration.pollInterval == .seconds(1))
        #expect(configuration.pollOnly)
        #expect(!configuration.jobEvents)
        #expect(try parse("{}").jobEvents)
        #expect(configuration.vacuumThreshold == 0)
        #expect(try parse("{}").vacuumThreshold == 50_000)
    }

    @Test func unknownKeysAreNamedWithASuggestion() throws {
        let nested = #expect(throws: ConfigurationError.self) { try parse(#"{"workers": {"long": {"timout": 10}}}"#) }
        #expect(nested?.key == "workers.long.timout")
        #expect(nested?.message.contains("did you mean timeout?") == true)
        let top = #expect(throws: ConfigurationError.self) { try parse(#"{"sql_schema": ["app"]}"#) }
        #expect(top?.key == "sql_schema")
        #expect(top?.message.contains("did you mean sql_schemas?") == true)
    }

    @Test func badValuesAreRefusedWithTheFix() throws {
        for (json, key) in [
            (#"{"workers": {"long": {"timeout": 0}}}"#, "workers.long.timeout"),
            (#"{"workers": {"long": {"background_workers": "four"}}}"#, "workers.long.background_workers"),
            (#"{"workers": {"long": {"max_attempts": 1.5}}}"#, "workers.long.max_attempts"),
            (#"{"workers": []}"#, "workers"),
            (#"{"sql_schemas": "app"}"#, "sql_schemas"),
            (#"{"poll_only": "yes"}"#, "poll_only"),
            (#"{"poll_only": 1}"#, "poll_only"),
            (#"{"max_orphaned": true}"#, "max_orphaned"),
            (#"{"job_events": "off"}"#, "job_events"),
            (#"{"vacuum_threshold": -1}"#, "vacuum_threshold"),
            (#"{"heartbeat_interval": 30, "rescue_after": 20}"#, "rescue_after"),
        ] {
            let error = #expect(throws: ConfigurationError.self, "\(json)") { try parse(json) }
            #expect(error?.key == key, "\(json)")
        }
        let notJSON = #expect(throws: ConfigurationError.self) { try parse("{workers") }
        #expect(notJSON?.description.contains("not valid JSON") == true)
    }
}

/// A numeric config key, the lowest and highest values it allows and the nearest ones it
/// refuses, as JSON and as its error shows them.
struct NumericKey: Sendable, CustomTestStringConvertible {
    /// Dotted, as errors name it: `poll_interval`, `workers.default.timeout`.
    var key: String
    var lowest: String
    var highest: String
    var belowLowest: String
    var aboveHighest: String
    /// Other keys the value needs beside it, e.g. a longer `rescue_after` for a long heartbeat.
    var context = ""
    /// Parses a config file and reads the key's value back, as a number.
    var read: @Sendable (Data) throws -> Double

    var testDescription: String { key }

    /// The config with `value` at this key.
    func json(_ value: String) -> String {
        let parts = key.split(separator: ".")
        let entry = parts.count == 3
            ? #""workers": {"\#(parts[1])": {"\#(parts[2])": \#(value)}}"#
            : #""\#(key)": \#(value)"#
        return "{\(entry)\(context.isEmpty ? "" : ", " + context)}"
    }

    func allows(_ value: Double) -> Bool {
        Double(lowest)! <= value && value <= Double(highest)!
    }

    static func worker(
        _ key: String, _ lowest: String, _ highest: String, below: String, above: String, context: String = "",
        _ read: @escaping @Sendable (WorkerConfiguration) -> Double
    ) -> NumericKey {
        NumericKey(
            key: key, lowest: lowest, highest: highest, belowLowest: below, aboveHighest: above, context: context,
            read: { try read(WorkerConfiguration.parse($0)) })
    }

    /// Every number the config file takes, with its documented range.
    static let all: [NumericKey] = [
        .worker("poll_interval", "0.01", "86400", below: "0.0099", above: "86400.001") { $0.pollInterval.seconds },
        .worker("heartbeat_interval", "0.1", "3600", below: "0.099", above: "3600.001", context: #""rescue_after": 86400"#) {
            $0.heartbeatInterval.seconds
        },
        .worker("rescue_after", "0.5", "86400", below: "0.499", above: "86400.001", context: #""heartbeat_interval": 0.1"#) {
            $0.rescueAfter.seconds
        },
        .worker("maintenance_interval", "0.1", "86400", below: "0.099", above: "86400.001") { $0.maintenanceInterval.seconds },
        .worker("max_orphaned", "1", "1000", below: "0", above: "1001") { Double($0.maxOrphaned) },
        .worker("vacuum_threshold", "0", "1000000000", below: "-1", above: "1000000001") { Double($0.vacuumThreshold) },
        .worker("shutdown_grace", "0", "86400", below: "-0.001", above: "86400.001") { $0.shutdownGrace.seconds },
        .worker("cancel_grace", "0", "3600", below: "-0.001", above: "3600.001") { $0.cancelGrace.seconds },
        .worker("finished_retention", "0", "315360000", below: "-0.001", above: "315360000.001") { $0.finishedRetention.seconds },
        .worker("failed_retention", "0", "315360000", below: "-0.001", above: "315360000.001") { $0.failedRetention.seconds },
        .worker("retry_backoff_base", "0", "86400", below: "-0.001", above: "86400.001") { $0.retryPolicy.base.seconds },
        .worker("retry_backoff_max", "0", "2592000", below: "-0.001", above: "2592000.001") { $0.retryPolicy.maximum.seconds },
        .worker("workers.default.timeout", "1", "2147483", below: "0", above: "2147484") { Double($0.queue("default").timeout) },
        .worker("workers.myqueue.background_workers", "1", "10000", below: "0", above: "10001") {
            Double($0.queue("myqueue").backgroundWorkers)
        },
        .worker("workers.long.max_attempts", "1", "2147483647", below: "0", above: "2147483648") {
            Double($0.queue("long").maxAttempts)
        },
        NumericKey(
            key: "scheduler_tick_interval", lowest: "0.1", highest: "86400", belowLowest: "0.099", aboveHighest: "86400.001",
            read: { try ScheduleConfiguration.parse($0).tickInterval.seconds }),
    ]
}

@Suite struct WorkerConfigurationRangeTests {
    // The finding's traps: a duration of 1e19 s or more trapped in its conversion to a
    // Duration, and a background_workers near Int64.max overflowed the CLI's sum of slots.
    // Either took the worker process down with every job it held.

    @Test func aHugeDurationIsRefusedNamingTheKeyAndTheRange() throws {
        let error = #expect(throws: ConfigurationError.self) { try WorkerConfiguration.parse(Data(#"{"poll_interval": 1e300}"#.utf8)) }
        #expect(
            error?.description
                == "config key poll_interval: 1e+300 is out of range; use a number of seconds from 0.01 to 86400 (1 day)")
        let exactly = #expect(throws: ConfigurationError.self) { try WorkerConfiguration.parse(Data(#"{"rescue_after": 1e19}"#.utf8)) }
        #expect(exactly?.key == "rescue_after")
    }

    @Test func backgroundWorkersNearInt64MaxIsRefusedNamingTheKeyAndTheRange() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.parse(Data(#"{"workers": {"default": {"background_workers": 9223372036854775807}}}"#.utf8))
        }
        #expect(
            error?.description
                == "config key workers.default.background_workers: 9223372036854775807 is out of range; use a whole number from 1 to 10000")
    }

    @Test func aNumberGivenAsAJSONStringIsReportedAsAString() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.parse(Data(#"{"workers": {"long": {"timeout": "5000"}}}"#.utf8))
        }
        #expect(
            error?.description
                == #"config key workers.long.timeout: got the string "5000"; use a whole number of seconds from 1 to 2147483"#)
    }

    @Test(arguments: NumericKey.all)
    func theLowestAndHighestAllowedValuesAreTaken(_ key: NumericKey) throws {
        #expect(try key.read(Data(key.json(key.lowest).utf8)) == Double(key.lowest)!)
        #expect(try key.read(Data(key.json(key.highest).utf8)) == Double(key.highest)!)
    }

    @Test(arguments: NumericKey.all)
    func valuesJustOutsideTheRangeAreRefusedWithTheRange(_ key: NumericKey) throws {
        for value in [key.belowLowest, key.aboveHighest, "1e300", "-1e300", "9223372036854775807", "18446744073709551616"] {
            let error = #expect(throws: ConfigurationError.self, "\(key.key) = \(value)") { try key.read(Data(key.json(value).utf8)) }
            #expect(error?.key == key.key, "\(value)")
            #expect(error?.message.contains("is out of range; use a ") == true, "\(value): \(String(describing: error))")
            #expect(error?.message.contains("from \(key.lowest) to \(key.highest)") == true, "\(value): \(String(describing: error))")
        }
    }

    @Test(arguments: NumericKey.all)
    func valuesThatAreNotNumbersAreShownAsTheFileHasThem(_ key: NumericKey) throws {
        for (value, shown) in [
            (#""5000""#, #"got the string "5000""#), ("true", "got true"), ("null", "got null"), ("[1]", "got a list"),
            (#"{"seconds": 1}"#, "got an object"),
        ] {
            let error = #expect(throws: ConfigurationError.self, "\(key.key) = \(value)") { try key.read(Data(key.json(value).utf8)) }
            #expect(error?.key == key.key, "\(value)")
            #expect(error?.message.hasPrefix("\(shown); use a ") == true, "\(value): \(String(describing: error))")
        }
    }

    /// `porter worker` started with a schedule that `porter scheduler` refused, and failed only
    /// once run with --scheduler. The worker's config is the same file: it is refused at once.
    @Test func aScheduleTheSchedulerRefusesIsRefusedByTheWorkersConfigToo() throws {
        for (json, key) in [
            (#"{"scheduler_events": {"cron": {"15 25 * * *": ["a.report"]}}}"#, "scheduler_events.cron"),
            (#"{"scheduler_events": {"dailly": ["x"]}}"#, "scheduler_events.dailly"),
            (#"{"scheduler_events": {"daily": "x"}}"#, "scheduler_events.daily"),
            (#"{"scheduler_events": {"daily": [""]}}"#, "scheduler_events.daily"),
            (#"{"scheduler_timezone": "Mars/Olympus"}"#, "scheduler_timezone"),
            (#"{"scheduler_tick_interval": 1e300}"#, "scheduler_tick_interval"),
            (#"{"scheduler_events": []}"#, "scheduler_events"),
        ] {
            let error = #expect(throws: ConfigurationError.self, "\(json)") { try WorkerConfiguration.parse(Data(json.utf8)) }
            #expect(error?.key == key, "\(json): \(String(describing: error))")
        }
        let fine = #"{"scheduler_events": {"daily": ["x"], "cron": {"*/5 * * * *": ["y"]}}}"#
        #expect(try WorkerConfiguration.parse(Data(fine.utf8)).queues.isEmpty == false)
    }

    @Test func aFractionIsRefusedWhereAWholeNumberIsNeeded() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.parse(Data(#"{"workers": {"long": {"max_attempts": 2.5}}}"#.utf8))
        }
        #expect(error?.description == "config key workers.long.max_attempts: 2.5 is not a whole number; use a whole number from 1 to 2147483647")
    }

    /// JSON texts of numbers of every kind: huge, tiny, negative, integers at and past the
    /// Int64 and UInt64 limits, digit strings too long for any integer type, and texts that
    /// only look like numbers (NaN, Infinity, quoted numbers), which are not valid JSON or
    /// not numbers.
    static let numberTexts = Gen<String>.oneOf(
        // Any magnitude, up to past Double's (1e309 and beyond are not valid JSON numbers here).
        zip(Gen.double(in: -10...10), Gen.int(in: -400...400)).map { "\($0)e\($1)" },
        Gen.double(in: -1e300...1e300).map { "\($0)" },
        Gen.double(in: -1e7...1e10).map { "\($0)" },
        Gen.int(in: .min ... .max).map { "\($0)" },
        Gen.int(in: (Int.max - 1000)...Int.max).map { "\($0)" },
        Gen.int(in: Int.min...(Int.min + 1000)).map { "\($0)" },
        Gen.int(in: -10...3_000_000_000).map { "\($0)" },
        Gen<Character>.number.string(of: 19...40),
        Gen.element(of: [
            "NaN", "-NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "-0", "-0.0", "1e19", "9.3e15",
            "18446744073709551615", "18446744073709551616", "-9223372036854775809", #""5000""#, #""1e300""#, "true", "null",
        ]).map { $0! }
    )

    @Test func everyNumberGivesAConfigurationWithinTheRangeOrAnError() async {
        await propertyCheck(count: 3000, input: Gen.element(of: NumericKey.all).map { $0! }, Self.numberTexts) { key, text in
            do {
                let value = try key.read(Data(key.json(text).utf8))
                #expect(key.allows(value), "\(key.key) = \(text) gave \(value)")
            } catch is ConfigurationError {
                // Refused with the key named: what a number out of range must give.
            } catch {
                Issue.record("\(key.key) = \(text): not a ConfigurationError: \(error)")
            }
        }
    }
}

extension WorkerConfigurationTests {
    /// Any JSON value under any key, the scheduler's too: a configuration or a
    /// `ConfigurationError` naming the key, never a trap.
    @Test func everyValueOfEveryShapeGivesAConfigurationOrAnError() async {
        let keys = [
            "workers", "workers.default", "workers.q.timeout", "sql_schemas", "sql_functions", "poll_interval", "poll_only",
            "heartbeat_interval", "rescue_after", "max_orphaned", "job_events", "vacuum_threshold", "scheduler_events",
            "scheduler_events.cron", "scheduler_events.daily", "scheduler_timezone", "scheduler_tick_interval", "nonsense",
        ]
        await propertyCheck(count: 3000, input: Gen.element(of: keys).map { $0! }, HostileText.json) { key, value in
            let path = key.split(separator: ".").map(String.init)
            var json = value
            for part in path.reversed() {
                json = "{\(String(reflecting: part)): \(json)}"
            }
            do {
                _ = try WorkerConfiguration.parse(Data(json.utf8))
                _ = try ScheduleConfiguration.parse(Data(json.utf8))
            } catch is ConfigurationError {
            } catch {
                Issue.record("\(json.prefix(200)): not a ConfigurationError: \(error)")
            }
        }
    }
}

@Suite struct RetryPolicyTests {
    @Test(arguments: [Duration.seconds(Int64.max), .seconds(1e15), .seconds(3600)])
    func aRetryDelayNeverTrapsAndStaysWithinTenYears(_ maximum: Duration) {
        let policy = RetryPolicy(base: maximum, maximum: maximum, jitter: 0.25)
        for attempt in [1, 2, 40, Int.max] {
            let delay = policy.delay(afterAttempt: attempt, random: 0.999)
            #expect(delay >= .zero && delay <= .seconds(315_360_000))
        }
    }

    @Test func backoffIsExponentialJitteredAndCapped() {
        let policy = RetryPolicy(base: .seconds(3), maximum: .seconds(60), jitter: 0.25)
        #expect(policy.delay(afterAttempt: 1, random: 0.5) == .seconds(3))
        #expect(policy.delay(afterAttempt: 2, random: 0.5) == .seconds(6))
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(12))
        #expect(policy.delay(afterAttempt: 30, random: 0.5) == .seconds(60))
        #expect(policy.delay(afterAttempt: 1, random: 0) == .milliseconds(2250))
        #expect(policy.delay(afterAttempt: 1, random: 0.999_999) <= .milliseconds(3750))
        #expect(policy.delay(afterAttempt: 30, random: 0.999_999) <= .seconds(60))
    }
}
