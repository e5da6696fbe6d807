import Foundation
import PorterPostgres
import PorterTesting

#if canImport(Glibc)
import Glibc
#endif

/// A highly available PostgreSQL 15 for one test: three nodes managed by Patroni (from PyPI,
/// installed by scripts/install-deps in /opt/porter-patroni) with one etcd (Debian's
/// `etcd-server`), all on loopback ports in a temporary directory, run as the `postgres` user.
///
/// Synchronous replication is on (`synchronous_mode`), so a commit is acknowledged only once a
/// standby has it, and only that standby may be promoted. `primary_start_timeout: 0` makes
/// Patroni fail over as soon as it sees the primary's postmaster gone, instead of restarting
/// it in place. The cluster is removed by `stop()`, or by a watchdog once the test process
/// exits, however it ends.
final class PatroniCluster: Sendable {
    struct Node: Sendable {
        var name: String
        var port: Int
        var directory: String
    }

    let directory: String
    let nodes: [Node]
    /// The database the test uses, created on the first primary.
    static let database = "porter_ha"

    private init(directory: String, nodes: [Node]) {
        self.directory = directory
        self.nodes = nodes
    }

    /// Where Patroni lives.
    static let patroni = "/opt/porter-patroni/bin/patroni"

    /// The URL a Porter client uses: every node, and libpq picks the one that accepts writes.
    var url: String {
        let hosts = nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        return "postgresql://postgres@\(hosts)/\(Self.database)?target_session_attrs=read-write&connect_timeout=2"
    }

    /// One node's own database, for checks that must not follow the primary.
    func configuration(of node: Node, database: String = PatroniCluster.database) throws -> PQConfiguration {
        try PQConfiguration("host=127.0.0.1 port=\(node.port) user=postgres dbname=\(database) connect_timeout=2")
    }

    /// Starts etcd and the three nodes and waits until there is a primary with a synchronous
    /// standby, then creates `database` on it.
    static func start() async throws -> PatroniCluster {
        guard FileManager.default.isExecutableFile(atPath: patroni) else {
            throw TestDaemonError("Patroni is not installed at \(patroni); run scripts/install-deps")
        }
        guard let etcd = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestDaemonError("etcd is not installed; scripts/install-deps installs it (apt-get install -y etcd-server)")
        }
        let bin = try EmbeddedPostgres.findBinDirectory()
        let directory = try TestDaemon.makeDirectory("porter-patroni")
        // Kills what the cluster started, by the pids it wrote, and removes its files.
        let stop = """
            for f in \(directory)/*/patroni.pid \(directory)/etcd.pid; do [ -f "$f" ] && kill -9 $(cat "$f") 2>/dev/null; done
            for f in \(directory)/*/data/postmaster.pid; do [ -f "$f" ] && kill -9 $(head -1 "$f") 2>/dev/null; done
            sleep 1; rm -rf /tmp/porter-patroni-last; mkdir -p /tmp/porter-patroni-last
            for n in \(directory)/n*; do cp "$n/patroni.log" /tmp/porter-patroni-last/$(basename "$n").log 2>/dev/null; done
            rm -rf \(directory)
            """
        try stop.write(toFile: directory + "/stop.sh", atomically: true, encoding: .utf8)
        try TestDaemon.cleanUpAfterExit("sh \(directory)/stop.sh")

        let etcdClient = try TestDaemon.freeLoopbackPort()
        let etcdPeer = try TestDaemon.freeLoopbackPort()
        try TestDaemon.start(
            [etcd, "--name", "e1", "--data-dir", directory + "/etcd",
             "--listen-client-urls", "http://127.0.0.1:\(etcdClient)", "--advertise-client-urls", "http://127.0.0.1:\(etcdClient)",
             "--listen-peer-urls", "http://127.0.0.1:\(etcdPeer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(etcdPeer)",
             "--initial-cluster", "e1=http://127.0.0.1:\(etcdPeer)", "--log-level", "warn"],
            pidFile: directory + "/etcd.pid", log: directory + "/etcd.log")

        var nodes: [Node] = []
        for index in 1...3 {
            let node = Node(name: "n\(index)", port: try TestDaemon.freeLoopbackPort(), directory: "\(directory)/n\(index)")
            try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
            chmod(node.directory, 0o700)
            try TestDaemon.chownToPostgres(node.directory)
            let rest = try TestDaemon.freeLoopbackPort()
            let config = """
                scope: porter
                name: \(node.name)
                log:
                  level: INFO
                restapi:
                  listen: 127.0.0.1:\(rest)
                  connect_address: 127.0.0.1:\(rest)
                etcd3:
                  hosts: 127.0.0.1:\(etcdClient)
                bootstrap:
                  dcs:
                    ttl: 20
                    loop_wait: 1
                    retry_timeout: 5
                    synchronous_mode: true
                    maximum_lag_on_failover: 1048576
                    postgresql:
                      use_pg_rewind: true
                      parameters:
                        max_connections: 300
                        shared_buffers: 32MB
                        fsync: 'off'
                        wal_log_hints: 'on'
                        max_wal_senders: 10
                        max_replication_slots: 10
                        wal_keep_size: 256MB
                  initdb:
                    - encoding: UTF8
                    - locale: C
                postgresql:
                  listen: 127.0.0.1:\(node.port)
                  connect_address: 127.0.0.1:\(node.port)
                  data_dir: \(node.directory)/data
                  bin_dir: \(bin)
                  pgpass: \(node.directory)/pgpass
                  authentication:
                    superuser:
                      username: postgres
                    replication:
                      username: postgres
                  parameters:
                    unix_socket_directories: \(node.directory)
                  pg_hba:
                    - local all all trust
                    - host all all 127.0.0.1/32 trust
                    - host replication all 127.0.0.1/32 trust
                """
            try config.write(toFile: node.directory + "/patroni.yml", atomically: true, encoding: .utf8)
            try TestDaemon.chownToPostgres(node.directory + "/patroni.yml")
            try TestDaemon.start([patroni, node.directory + "/patroni.yml"], pidFile: node.directory + "/patroni.pid", log: node.directory + "/patroni.log")
            nodes.append(node)
        }
        let cluster = PatroniCluster(directory: directory, nodes: nodes)
        do {
            // Patroni's own record of the synchronous standby (its /sync key), not PostgreSQL's:
            // until Patroni has written it, no standby may take over.
            try await waitUntil(timeout: .seconds(120), every: .milliseconds(500), "a Patroni leader with a synchronous standby and a replica") {
                let roles = try await cluster.members().map { "\($0.role) \($0.state)" }.sorted()
                return roles == ["Leader running", "Replica streaming", "Sync Standby streaming"]
            }
            let primary = try await cluster.primary()
            let admin = try await PQConnection.connect(try cluster.configuration(of: primary, database: "postgres"))
            try await admin.execute("CREATE DATABASE \(Self.database)")
            await admin.close()
            // libpq does not try the next host after a login refused for a database the node
            // has not replayed yet, so wait until every node has it.
            try await waitUntil(timeout: .seconds(30), "every node to have the database") {
                for node in nodes {
                    guard let connection = try? await PQConnection.connect(try cluster.configuration(of: node)) else { return false }
                    await connection.close()
                }
                return true
            }
        } catch {
            throw TestDaemonError("the Patroni cluster did not come up (\(error)); logs in \(directory)/n*/patroni.log: \(cluster.logTail())")
        }
        return cluster
    }

    /// Every member as Patroni lists it (`patronictl list`): role (`Leader`, `Sync Standby`,
    /// `Replica`) and state (`running`, `streaming`, ...).
    func members() async throws -> [(name: String, role: String, state: String)] {
        let output = directory + "/members.json"
        try? FileManager.default.removeItem(atPath: output)
        let status = try await TestDaemon.run(
            ["sh", "-c", "\(Self.patronictl) -c \(nodes[0].directory)/patroni.yml list -f json > \(output) 2>/dev/null"])
        guard status == 0, let data = FileManager.default.contents(atPath: output),
            let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return list.map { ($0["Member"] as? String ?? "", $0["Role"] as? String ?? "", $0["State"] as? String ?? "") }
    }

    static let patronictl = "/opt/porter-patroni/bin/patronictl"

    /// The node that accepts writes now.
    func primary() async throws -> Node {
        for node in nodes {
            guard let connection = try? await PQConnection.connect(try configuration(of: node, database: "postgres")) else { continue }
            let inRecovery = try? await connection.query("SELECT pg_is_in_recovery()").single(Bool.self)
            await connection.close()
            if inRecovery == false { return node }
        }
        throw TestDaemonError("no node accepts writes")
    }

    /// Loses a node, as a host that dies would: SIGKILLs its Patroni, then its postmaster
    /// (whose backends die with it). Its leader key in etcd lapses after `ttl` (20 s, Patroni's
    /// minimum), and the synchronous standby takes over.
    ///
    /// Killing the postmaster alone is not a failover: Patroni on that node restarts it and
    /// keeps the lead, as it did here within about 4 s under load.
    func killNode(_ node: Node) throws {
        for file in [node.directory + "/patroni.pid", node.directory + "/data/postmaster.pid"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                let pid = text.split(separator: "\n").first.flatMap({ Int32($0.trimmingCharacters(in: .whitespaces)) })
            else { throw TestDaemonError("no pid in \(file)") }
            guard kill(pid, SIGKILL) == 0 else { throw TestDaemonError("could not kill \(pid) (\(file)): \(errno)") }
        }
    }

    /// Stops everything and removes the directory.
    func stop() async {
        _ = try? await TestDaemon.run(["sh", directory + "/stop.sh"])
    }

    /// The end of each node's Patroni log, for a failure message.
    func logTail() -> String {
        nodes.map { node in
            let log = (try? String(contentsOfFile: node.directory + "/patroni.log", encoding: .utf8)) ?? ""
            let lines = log.split(separator: "\n").filter { !$0.contains("no action.") }.suffix(40)
            return "\(node.name):\n" + lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
