package app.kartka.android

import android.app.Activity
import android.app.Application
import android.os.Bundle
import app.kartka.app.SyncController
import app.kartka.core.ClientBook
import kotlinx.coroutines.Dispatchers

/**
 * Opens the book once per process (encrypted, its key wrapped by Android Keystore) and runs
 * the foreground sync loop while any Activity is visible; the periodic [SyncJobService] syncs
 * when none is.
 */
open class KartkaApp : Application() {
    lateinit var book: ClientBook
        private set
    lateinit var sync: SyncController
        private set

    /** Book calls block; view-models run them here, never on the main thread. */
    val io = Dispatchers.IO

    private var visible = 0

    /**
     * The book's key, wrapped by Android Keystore. Open so the Robolectric suite can hand in a
     * key of its own: Robolectric has no `AndroidKeyStore` provider.
     */
    protected open fun bookKey(): ByteArray = BookKey.get(this)

    /**
     * How long one long-poll of the foreground loop waits for news; stopping the loop takes up
     * to this long. The Robolectric suite shortens it to see the loop end within a test.
     */
    open val syncWaitSeconds: Int = 25

    /** False until the first launch has set up the studio (or paired with one). */
    fun hasBusiness(): Boolean =
        try {
            book.business()
            true
        } catch (e: app.kartka.core.ApiException.NotInitialized) {
            false
        }

    override fun onCreate() {
        super.onCreate()
        book = ClientBook.openEncrypted(getDatabasePath("kartka.db").apply { parentFile?.mkdirs() }.path, bookKey())
        sync = SyncController(book)
        SyncJobService.schedule(this)
        registerActivityLifecycleCallbacks(object : ActivityLifecycleCallbacks {
            override fun onActivityStarted(activity: Activity) {
                if (visible++ == 0 && book.syncInfo().paired) sync.start(syncWaitSeconds)
            }

            override fun onActivityStopped(activity: Activity) {
                if (--visible == 0) sync.stop()
            }

            override fun onActivityCreated(activity: Activity, state: Bundle?) {}
            override fun onActivityResumed(activity: Activity) {}
            override fun onActivityPaused(activity: Activity) {}
            override fun onActivitySaveInstanceState(activity: Activity, state: Bundle) {}
            override fun onActivityDestroyed(activity: Activity) {}
        })
    }
}

val Activity.kartka: KartkaApp get() = application as KartkaApp
