import CLibPQ

/// Where and how to connect.
///
/// The connection string is handed to libpq as it is, so both URLs
/// (`postgresql://user@host:5432/db?sslmode=disable`) and key/value conninfo strings
/// (`host=/tmp port=5432 dbname=app`) work, and every setting the string leaves out comes from
/// libpq's own `PG*` environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, ...)
/// and defaults. An empty string means "libpq's defaults".
public struct PQConfiguration: Sendable, Hashable {
    /// A URL or conninfo string. Default: empty, libpq's defaults.
    public var connectionString: String
    /// Shown in `pg_stat_activity.application_name` unless the string sets its own. Default: `porter`.
    public var applicationName: String

    /// Checks the string with libpq's own parser and keeps it.
    public init(_ connectionString: String = "", applicationName: String = "porter") throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PQError(
                code: .invalidConfiguration,
                message: "invalid connection string: \(message.trimmingTrailingNewlines)",
                hint: "use a URL such as postgresql://user@localhost:5432/app or key=value pairs such as host=/run/postgresql dbname=app")
        }
        PQconninfoFree(options)
        self.connectionString = connectionString
        self.applicationName = applicationName
    }
}

extension PQConfiguration {
    /// Asked of every connection unless the connection string sets its own: TCP keepalives
    /// after 30 s idle, then every 10 s, giving up after 3 unanswered (libpq's `keepalives_*`).
    /// A server that vanished without closing the connection (a host lost, a network cut) is
    /// then noticed within about a minute rather than the kernel's two hours, so the listener
    /// reconnects and a pooled connection is replaced. Unix-socket connections ignore them.
    static let keepaliveDefaults = [("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3")]

    /// The keywords and values for `PQconnectdbParams`. The defaults come first: the
    /// connection string, expanded in place of `dbname`, overrides whatever it sets.
    var connectParameters: (keywords: [String], values: [String]) {
        (Self.keepaliveDefaults.map(\.0) + ["dbname", "fallback_application_name"],
         Self.keepaliveDefaults.map(\.1) + [connectionString, applicationName])
    }

    /// The same settings with another database name, as a key/value conninfo string.
    public func withDatabase(_ database: String) throws -> PQConfiguration {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            throw PQError(code: .invalidConfiguration, message: "invalid connection string")
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        for (key, value) in Self.settings(options) where key != "dbname" {
            if let value { parts.append("\(key)=\(Self.quote(value))") }
        }
        parts.append("dbname=\(Self.quote(database))")
        return try PQConfiguration(parts.joined(separator: " "), applicationName: applicationName)
    }

    /// The value the string gives a libpq keyword (`host`, `port`, `dbname`, ...), nil when it
    /// gives none. For a multi-host string, `host` and `port` are comma-separated lists.
    public func setting(_ keyword: String) -> String? {
        guard let options = PQconninfoParse(connectionString, nil) else { return nil }
        defer { PQconninfoFree(options) }
        return Self.settings(options).first { $0.keyword == keyword }?.value
    }

    /// The keywords and values of a libpq option array (`PQconninfoParse`, `PQconninfo`).
    static func settings(_ options: UnsafeMutablePointer<PQconninfoOption>) -> [(keyword: String, value: String?)] {
        var settings: [(keyword: String, value: String?)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            settings.append((String(cString: keyword), option.pointee.val.map { String(cString: $0) }))
            option += 1
        }
        return settings
    }

    /// Quotes a conninfo value: single quotes, with quotes and backslashes escaped.
    static func quote(_ value: String) -> String {
        var quoted = "'"
        for character in value {
            if character == "'" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "'"
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }
}
