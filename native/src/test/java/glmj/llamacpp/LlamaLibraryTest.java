package glmj.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaLibraryTest {

    @Test
    void loadsVersion050WithACpuBackend() {
        LlamaLibrary library = Oracle.library();
        assertEquals(LlamaLibrary.GGML_VERSION, Ggml.ggml_version().getString(0));
        assertTrue(Ggml.ggml_backend_reg_count() >= 1);
        String systemInfo = Llama.llama_print_system_info().reinterpret(Long.MAX_VALUE).getString(0);
        assertTrue(systemInfo.contains("CPU"), systemInfo);
        assertEquals(LlamaLibrary.load(), library);
    }

    @Test
    void anotherFolderAfterLoadingIsRefusedNamingBoth(@TempDir Path empty) {
        Oracle.library();
        LlamaLibraryException refused = assertThrows(LlamaLibraryException.class, () -> LlamaLibrary.load(empty));
        assertTrue(refused.getMessage().contains(empty.toString()), refused.getMessage());
    }
}
