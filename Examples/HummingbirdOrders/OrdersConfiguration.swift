/// How the orders service runs.
struct OrdersConfiguration: Sendable {
    /// The database, as a URL or libpq conninfo string; empty for libpq's `PG*` defaults.
    var databaseURL: String
    /// The HTTP port on 127.0.0.1; 0 picks a free one.
    var port: Int = 8080
    /// How long each step of a confirmation takes: the job's stand-in for real work.
    var stepDuration: Duration = .milliseconds(300)
    /// Steps per confirmation; each one publishes progress.
    var steps = 4
}
