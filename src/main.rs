fn main() {
    println!("controlgate");
}
