import Foundation
import Porter
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

@Suite struct RetryPolicyTests {
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
