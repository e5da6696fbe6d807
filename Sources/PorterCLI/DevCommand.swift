import ArgumentParser
import Foundation
import PorterPostgres

/// `porter dev start|stop|status|url`: a PostgreSQL for trying Porter on a machine with none.
/// It lives in `.porter/postgres` and runs until `porter dev stop`; every command uses it when
/// no database is configured.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "A local development PostgreSQL in .porter/, used when no database is configured.",
        discussion: """
            The server's data lives in .porter/postgres of the current directory (or of the nearest \
            parent that has one; PORTER_DEV_DIR names another directory). It listens on a Unix socket \
            there, not on TCP, and keeps running until `porter dev stop`. Every porter command uses it \
            when neither --database-url, PORTER_DATABASE_URL, DATABASE_URL nor a PG* variable is set, \
            starting it (and creating it, the first time) when it is not running.
            """,
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self])

    /// `directory`, relative to the current directory when it is inside it.
    static func shown(_ directory: String) -> String {
        let current = FileManager.default.currentDirectoryPath
        if directory.hasPrefix(current + "/") { return String(directory.dropFirst(current.count + 1)) }
        return directory
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Create (the first time) and start the development server.")

        func run() throws {
            let server = DevelopmentServer.locate()
            switch try server.start() {
            case .created: print("created and started a development PostgreSQL in \(DevCommand.shown(server.directory))")
            case .started: print("started the development PostgreSQL in \(DevCommand.shown(server.directory))")
            case .alreadyRunning: print("the development PostgreSQL in \(DevCommand.shown(server.directory)) is already running")
            }
            print("""
                porter commands use it while no database URL is configured; other tools connect with
                  \(server.url)
                stop it with `porter dev stop` (its data stays; `porter dev stop --remove` deletes it)
                """)
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the development server.")

        @Flag(help: "Also delete its data (the .porter/postgres directory).")
        var remove = false

        func run() throws {
            let server = DevelopmentServer.locate()
            guard server.exists else {
                print("no development PostgreSQL in \(DevCommand.shown(server.directory))")
                return
            }
            let wasRunning = try server.stop()
            if remove {
                try server.remove()
                print("removed the development PostgreSQL in \(DevCommand.shown(server.directory))")
            } else {
                print(wasRunning ? "stopped the development PostgreSQL in \(DevCommand.shown(server.directory)); its data stays until `porter dev stop --remove`"
                    : "the development PostgreSQL in \(DevCommand.shown(server.directory)) is not running")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Say whether the development server runs, and where (exits 1 when it does not).")

        func run() throws {
            let server = DevelopmentServer.locate()
            guard server.exists else {
                print("no development PostgreSQL in \(DevCommand.shown(server.directory)); `porter dev start` creates one")
                throw ExitCode(1)
            }
            guard server.isRunning else {
                print("the development PostgreSQL in \(DevCommand.shown(server.directory)) is stopped; `porter dev start` starts it")
                throw ExitCode(1)
            }
            print("the development PostgreSQL in \(DevCommand.shown(server.directory)) is running: \(server.url)")
        }
    }

    struct URLCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url",
            abstract: "Print the development server's URL, e.g. PORTER_DATABASE_URL=$(porter dev url) swift run my-app.")

        func run() throws {
            print(DevelopmentServer.locate().url)
        }
    }
}
