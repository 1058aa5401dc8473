# The Ruby twin of resque_sim/live/probe.py, for measuring Ruby Resque workers with `resque-sim --live
# URL --attach`.  Require this file in the worker process (the path is what `resque-sim --ruby-probe`
# prints), e.g.  QUEUE=* rake resque:work  with  require "<that path>"  in the Rakefile.
#
# It behaves as the Python probe does: args [run, job_id, seconds, work, exception, memory_mb]; reads
# the Redis clock (TIME), holds memory_mb MB and sleeps (or burns CPU, work "cpu") for seconds, takes
# the time it finished as the start plus the monotonic time since; appends a JSON record {job, started, finished, host, pid, ppid, raised, rss_mb} to the list
# <namespace>:resque-sim:probe:<run> (rss_mb: resident memory while holding it, nil off Linux); then
# raises when exception is not null.
require "etc"
require "json"
require "socket"

module ResqueSim
  # Raised when the scenario's draw says the job fails; the message names the scenario's exception.
  class ProbeError < StandardError; end

  class Probe
    PAGE = 4096

    def self.perform(run, job_id, seconds, work, exception, memory_mb)
      started = server_time
      mark = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      held = hold(memory_mb) if memory_mb.to_f > 0
      if work == "cpu"
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
        nil while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      elsif work.to_s.start_with?("mix:")
        computing = seconds * work.to_s.delete_prefix("mix:").to_f
        sleep(seconds - computing)
        deadline = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) + computing
        nil while Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) < deadline
      else
        sleep(seconds)
      end
      rss_mb = resident_mb
      held = nil
      finished = started + (Process.clock_gettime(Process::CLOCK_MONOTONIC) - mark)
      record = {
        "job" => job_id, "started" => started, "finished" => finished, "host" => Socket.gethostname,
        "pid" => Process.pid, "ppid" => Process.ppid, "raised" => exception, "rss_mb" => rss_mb
      }
      # Resque.redis adds the namespace, so this is <namespace>:resque-sim:probe:<run>
      Resque.redis.rpush("resque-sim:probe:#{run}", JSON.generate(record))
      raise ProbeError, "probe job #{job_id} raised #{exception}" unless exception.nil?
    end

    def self.server_time
      seconds, micros = Resque.redis.time
      seconds + micros / 1_000_000.0
    end

    # Resident memory in MB from Linux's /proc (nil elsewhere).
    def self.resident_mb
      File.read("/proc/self/statm").split[1].to_i * Etc.sysconf(Etc::SC_PAGESIZE) / 1048576.0
    rescue StandardError
      nil
    end

    def self.hold(megabytes)
      block = "\0" * (megabytes * 1024 * 1024).to_i
      (0...block.bytesize).step(PAGE) { |at| block.setbyte(at, 1) }
      block
    end
  end
end
