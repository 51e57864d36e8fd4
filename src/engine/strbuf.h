/* Moved to src/common/strbuf.h (shared with the simulator); this forward keeps code written
 * against the old place building. New code includes "common/strbuf.h". */
#include "common/strbuf.h"
