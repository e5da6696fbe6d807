import Foundation

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
}
