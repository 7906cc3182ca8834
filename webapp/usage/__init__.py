"""Daily usage counters per member (API calls now; images, storage and more later)."""
