package app.kartka.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import app.kartka.core.ApiException

/**
 * Background sync while the app is closed: every 15 minutes (the platform's minimum) when a
 * network is there, the job pushes and pulls once. JobScheduler is the framework's own
 * scheduler (WorkManager sits on top of it), so the app needs no AndroidX for this.
 */
class SyncJobService : JobService() {
    @Volatile private var worker: Thread? = null

    override fun onStartJob(params: JobParameters): Boolean {
        val app = application as KartkaApp
        if (!app.book.syncInfo().paired) return false
        worker = Thread {
            val retry = try {
                app.book.syncNow()
                false
            } catch (e: ApiException.Network) {
                true
            } catch (e: ApiException) {
                false
            }
            jobFinished(params, retry)
        }.apply { start() }
        return true
    }

    /** The system took the network away: the core keeps what was not acknowledged; retry. */
    override fun onStopJob(params: JobParameters): Boolean = true

    companion object {
        private const val JOB_ID = 4117

        fun schedule(context: Context) {
            val scheduler = context.getSystemService(JobScheduler::class.java) ?: return
            if (scheduler.getPendingJob(JOB_ID) != null) return
            scheduler.schedule(
                JobInfo.Builder(JOB_ID, ComponentName(context, SyncJobService::class.java))
                    .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                    .setPeriodic(15 * 60 * 1000L)
                    .setPersisted(true)
                    .build(),
            )
        }
    }
}
