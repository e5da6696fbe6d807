import Foundation
import PorterPostgres

/// CPU seconds used so far by this process (getrusage) and by the whole machine (the busy
/// time in /proc/stat), so a benchmark can report CPU per job: on a machine whose cores are
/// shared with PostgreSQL that is the figure an optimization moves, however the disk behaves.
struct CPUTime {
    var process: Double
    var machine: Double

    static func now() -> CPUTime {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        let process = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return CPUTime(process: process, machine: machineBusySeconds())
    }

    static func - (after: CPUTime, before: CPUTime) -> CPUTime {
        CPUTime(process: after.process - before.process, machine: after.machine - before.machine)
    }

    /// The largest resident set this process has had so far, in MiB (getrusage's ru_maxrss,
    /// which Linux gives in KiB).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_maxrss) / 1024
    }

    /// The first line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal, in
    /// clock ticks; busy is everything but idle, iowait and steal (time the hypervisor gave
    /// to other machines, which is not work done here and varies with the neighbours). 0
    /// where there is no /proc.
    private static func machineBusySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first
        else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard ticks.count == 8 else { return 0 }
        let busy = ticks.reduce(0, +) - ticks[3] - ticks[4] - ticks[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds that the PostgreSQL server whose postmaster is `postmaster` has used so
    /// far: the postmaster itself, every live child (backends, WAL writer, checkpointer, ...),
    /// and every child that has exited, which the postmaster's cutime and cstime count once it
    /// has reaped them. 0 where there is no /proc.
    static func server(postmaster: Int32) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        if let own = stat(of: postmaster) { total += own.cpu + own.childrenCPU }
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        for pid in pids where pid != postmaster {
            if let child = stat(of: pid), child.parent == postmaster { total += child.cpu }
        }
        return total / ticks
    }

    /// The postmaster of the server `connection` is on: its backend's parent. nil when the
    /// server runs on another machine (the backend's pid is not in this machine's /proc).
    static func postmaster(of connection: PQConnection) async -> Int32? {
        guard let backend = try? await connection.query("SELECT pg_catalog.pg_backend_pid()").single(Int.self),
              let process = stat(of: Int32(backend))
        else { return nil }
        return process.parent
    }

    /// A process's parent and CPU ticks from /proc/PID/stat: utime and stime (its own), cutime
    /// and cstime (its reaped children's). The name, field 2, is in parentheses and may hold
    /// spaces, so the fields are counted after its closing parenthesis.
    private static func stat(of pid: Int32) -> (parent: Int32, cpu: Double, childrenCPU: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        // After the name: state (3), ppid (4), ... utime (14), stime (15), cutime (16), cstime (17).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]),
              let utime = Double(fields[11]), let stime = Double(fields[12]),
              let cutime = Double(fields[13]), let cstime = Double(fields[14])
        else { return nil }
        return (parent, utime + stime, cutime + cstime)
    }
}
